"""Withdraw holds: a hold whose deduct's outcome is unknown is released for good, whatever the order in which
the deduct and its release reach the ledger; a release that failed is recorded and retried until the ledger
confirms it; neither a release nor a payment waiting on the ledger holds the record's lock, and the one that
claimed the withdraw first excludes the other."""
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from flask import Flask

from shared.errors import Unavailable
from shared.ledger_client import LedgerClient
from tests.user_center.conftest import CALLBACK, COMMISSION, notification, request_no_of, wait_for
from tests.user_center.freezing import frozen, gunicorn_workers, worker_serving
from tests.user_center.standins import HttpStandIn
from tests.user_center.test_gateway_notify import PLATFORM, WORKER, run_cli

from user_center import notifications
from user_center.bootstrap import create_app, dependencies
from user_center.holds import HoldReleaser


class ReleasesFail(LedgerClient):
    """The real ledger, except that every release of a hold fails as if the ledger had just gone away."""

    def release(self, eid: str, trade_no: str, amount: int) -> dict:
        raise Unavailable("ledger unreachable: ConnectionError")


@pytest.fixture(scope="module")
def refunds_fail(infra, ledger, agent):
    """user-center on the same database whose ledger releases fail (deducts work)."""
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  WITHDRAW_COMMISSION=COMMISSION))
    flaky = ReleasesFail(ledger.url, app.config)
    deps = dependencies(app)
    deps.ledger = flaky
    deps.holds = HoldReleaser(deps.pool, flaky, deps.config)
    return app.test_client()


def stuck_withdraw(refunds_fail, user, agent) -> str:
    """A withdraw whose agent call fails while the ledger cannot refund: the hold is stuck."""
    agent.fail_with = 503
    answer = refunds_fail.post("/my/withdraw-records", headers=user.headers,
                               json={"amount": "100.00", "callbackUrl": CALLBACK})
    agent.fail_with = None
    assert answer.status_code == 503
    return agent.calls[-1][1]["requestNo"]


def release_row(db, request_no: str) -> dict | None:
    return db.execute("select * from withdraw_hold_release where request_no = %s", (request_no,)).fetchone()


def record_status(db, request_no: str) -> int:
    return db.execute("select callback_status from withdraw_record where request_no = %s",
                      (request_no,)).fetchone()["callback_status"]


def test_a_stuck_hold_is_recorded_and_the_command_releases_it_once(refunds_fail, funded_user, agent, db, ledger,
                                                                  cli_env):
    user = funded_user("500.00")
    request_no = stuck_withdraw(refunds_fail, user, agent)
    row = release_row(db, request_no)
    assert row["released_at"] is None and row["attempts"] == 1 and "unreachable" in row["last_error"]
    assert row["amount"] == 10100 and record_status(db, request_no) == 0
    assert ledger.balance(user.user_no) == 50000 - 10100

    listed = run_cli(cli_env, "holds", "list")
    assert listed.returncode == 0 and request_no in listed.stdout
    released = run_cli(cli_env, "holds", "release")
    assert released.returncode == 0, released.stdout + released.stderr
    assert "1 released" in released.stdout
    assert ledger.balance(user.user_no) == 50000
    assert record_status(db, request_no) == 2 and release_row(db, request_no)["released_at"] is not None
    assert ledger.trade_nos(user.user_no, 3) == [request_no]

    again = run_cli(cli_env, "holds", "release")
    assert again.returncode == 0 and "0 released" in again.stdout
    assert ledger.balance(user.user_no) == 50000


def test_the_command_exits_1_while_the_ledger_is_down(refunds_fail, funded_user, agent, db, ledger, cli_env):
    user = funded_user("500.00")
    request_no = stuck_withdraw(refunds_fail, user, agent)
    down = run_cli({**cli_env, "LEDGER_URL": "http://127.0.0.1:9"}, "holds", "release")
    assert down.returncode == 1 and "still waiting" in down.stdout
    assert release_row(db, request_no)["attempts"] == 2 and ledger.balance(user.user_no) == 50000 - 10100
    assert run_cli(cli_env, "holds", "release").returncode == 0
    assert ledger.balance(user.user_no) == 50000


def test_the_consumer_loop_sweeps_stuck_holds(refunds_fail, funded_user, agent, db, ledger, procs, cli_env):
    user = funded_user("500.00")
    request_no = stuck_withdraw(refunds_fail, user, agent)
    db.execute("update withdraw_hold_release set next_attempt_at = now() where request_no = %s", (request_no,))
    procs.worker(WORKER, {**cli_env, "HOLD_SWEEP_MS": "200"})
    wait_for(lambda: record_status(db, request_no) == 2, what="hold released by the consumer's sweep")
    assert ledger.balance(user.user_no) == 50000


def test_an_orphaned_hold_the_agent_never_saw_is_adopted_and_released(refunds_fail, funded_user, agent, db, ledger,
                                                                       cli_env):
    user = funded_user("500.00")
    orphan = stuck_withdraw(refunds_fail, user, agent)
    db.execute("delete from withdraw_hold_release where request_no = %s", (orphan,))  # as if never recorded
    live = request_no_of(user.post("/my/withdraw-records", {"amount": "50.00", "callbackUrl": CALLBACK})
                         .json["result"])  # reached the agent: the bank may still settle it
    db.execute("update withdraw_record set created_at = now() - interval '2 hours' where request_no = any(%s)",
               ([orphan, live],))
    released = run_cli(cli_env, "holds", "release")
    assert released.returncode == 0 and "1 adopted, 1 released" in released.stdout
    assert (record_status(db, orphan), record_status(db, live)) == (2, 0)
    assert release_row(db, live) is None
    assert ledger.balance(user.user_no) == 50000 - 5100


def withdraw_app(infra, agent, ledger_url: str, timeout: int):
    """user-center on the run's database talking to the ledger at ``ledger_url``, with a short timeout and no
    commission (the hold is the amount)."""
    return create_app(infra.config("user_center", LEDGER_URL=ledger_url, DEPOSITORY_AGENT_URL=agent.url,
                                   SERVICE_TIMEOUT_SECONDS=timeout, WITHDRAW_COMMISSION="0.00"))


def latest_withdraw(db, user_no: str) -> str:
    return db.execute("select request_no from withdraw_record where user_no = %s order by id desc limit 1",
                      (user_no,)).fetchone()["request_no"]


def test_a_deduct_that_reaches_the_ledger_after_its_release_is_refused_for_good(infra, procs, agent, funded_user,
                                                                                 db, ledger):
    threaded = infra.service_env("beanpay_ledger", GUNICORN_CMD_ARGS="--worker-class gthread --threads 4",
                                 LOG_LEVEL="INFO")
    busy = procs.web("beanpay_ledger", threaded, workers=2)
    app = withdraw_app(infra, agent, busy.url, timeout=2)
    user = funded_user("100.00")
    ledger_client = dependencies(app).ledger
    ledger_client.balance(user.user_no)  # leaves one kept-alive connection, which the deduct will take
    kept_alive = [conn for conn in ledger_client.client.pool.pool.queue if conn is not None and conn.sock]
    assert len(kept_alive) == 1
    stalled = worker_serving(busy, kept_alive[0].sock.getsockname()[1])
    calls = len(agent.calls)
    with frozen([stalled]):  # the deduct waits in the frozen worker; the release goes to the other one
        answer = app.test_client().post("/my/withdraw-records", headers=user.headers,
                                        json={"amount": "40.00", "callbackUrl": CALLBACK})
        assert answer.status_code == 503
        request_no = latest_withdraw(db, user.user_no)
        assert record_status(db, request_no) == 2
    # thawed: the deduct reaches the ledger now, after its release
    wait_for(lambda: "/account/balance/deduct -> 409" in busy.log_path.read_text()
             or ledger.trade_nos(user.user_no, 2), what="the late deduct answered")
    assert ledger.balance(user.user_no) == 10000 and ledger.trade_nos(user.user_no, 2) == []
    assert user.get("/my/balances").json["result"]["balance"] == "100.00"
    assert record_status(db, request_no) == 2 and len(agent.calls) == calls  # never sent to the bank
    assert release_row(db, request_no)["outcome"] == "void"


def test_a_deduct_and_its_release_both_late_leave_the_hold_released(infra, procs, agent, funded_user, db, ledger,
                                                                    cli_env):
    single = procs.web("beanpay_ledger", infra.service_env("beanpay_ledger"), workers=1)
    app = withdraw_app(infra, agent, single.url, timeout=1)
    user = funded_user("100.00")
    with frozen(gunicorn_workers(single)):  # both calls wait in its backlog, the deduct first
        answer = app.test_client().post("/my/withdraw-records", headers=user.headers,
                                        json={"amount": "40.00", "callbackUrl": CALLBACK})
        assert answer.status_code == 503
        request_no = latest_withdraw(db, user.user_no)
        row = release_row(db, request_no)
        assert row["released_at"] is None and row["attempts"] == 1 and record_status(db, request_no) == 0
    released = run_cli({**cli_env, "LEDGER_URL": single.url}, "holds", "release")
    assert released.returncode == 0, released.stdout + released.stderr
    assert ledger.balance(user.user_no) == 10000
    assert ledger.trade_nos(user.user_no, 2) == ledger.trade_nos(user.user_no, 3) == [request_no]
    assert record_status(db, request_no) == 2 and release_row(db, request_no)["outcome"] == "refund"


def test_a_hold_whose_withdraw_the_bank_paid_meanwhile_is_kept(funded_user, settle, db, ledger, cli_env):
    user = funded_user("100.00")
    request_no = request_no_of(user.post("/my/withdraw-records", {"amount": "40.00", "callbackUrl": CALLBACK})
                               .json["result"])
    db.execute("insert into withdraw_hold_release (request_no, user_no, amount, reason) values (%s, %s, 4100, %s)",
               (request_no, user.user_no, "the agent call failed"))  # as if its release had been asked
    settle("WITHDRAW", request_no, True, "40.00")  # and the bank paid it meanwhile
    released = run_cli({**cli_env, "LOG_LEVEL": "INFO"}, "holds", "release")
    assert released.returncode == 0, released.stdout + released.stderr
    assert ledger.balance(user.user_no) == 10000 - 4100 and ledger.trade_nos(user.user_no, 3) == []
    assert record_status(db, request_no) == 1
    row = release_row(db, request_no)
    assert row["outcome"] == "kept" and row["released_at"] is not None
    assert '"alert": "withdraw-hold-kept"' in released.stderr + released.stdout


@pytest.fixture
def not_the_ledger():
    """An HTTP server that answers every path with a 404 page, as a proxy in front of a missing service does."""
    app = Flask("proxy")
    app.route("/<path:anything>", methods=["GET", "POST"])(lambda anything: ("<h1>Not Found</h1>", 404))
    server = HttpStandIn(app).start()
    yield server
    server.stop()


def test_a_404_that_is_not_the_ledgers_answer_leaves_the_deduct_unknown(infra, agent, funded_user, db, ledger, app,
                                                                       not_the_ledger):
    user = funded_user("100.00")
    proxied = withdraw_app(infra, agent, not_the_ledger.url, timeout=2)
    answer = proxied.test_client().post("/my/withdraw-records", headers=user.headers,
                                        json={"amount": "40.00", "callbackUrl": CALLBACK})
    assert answer.status_code == 503  # not "insufficient balance": the deduct may have landed behind it
    request_no = latest_withdraw(db, user.user_no)
    assert record_status(db, request_no) == 0
    assert release_row(db, request_no)["released_at"] is None
    assert dependencies(app).holds.release_now(user.user_no, request_no, 4000, "the real ledger is back")
    assert record_status(db, request_no) == 2 and release_row(db, request_no)["outcome"] == "void"
    assert ledger.balance(user.user_no) == 10000


def locked(db, request_no: str) -> bool:
    """Whether a transaction holds the withdraw record's row lock (nobody waits: NOWAIT)."""
    try:
        with db.transaction():
            db.execute("select 1 from withdraw_record where request_no = %s for update nowait", (request_no,))
    except psycopg.errors.LockNotAvailable:
        return True
    return False


def applying_status(db, request_no: str) -> int | None:
    return db.execute("select applying_status from withdraw_record where request_no = %s",
                      (request_no,)).fetchone()["applying_status"]


@pytest.fixture
def frozen_ledger(infra, procs):
    """A one-worker ledger process on the run's ledger database, to freeze while a call waits in it."""
    return procs.web("beanpay_ledger", infra.service_env("beanpay_ledger"), workers=1)


def test_a_release_waiting_on_a_frozen_ledger_holds_no_lock_and_no_payment_slips_in(app, funded_user, settle, db,
                                                                                    ledger, frozen_ledger):
    user = funded_user("100.00")
    request_no = request_no_of(user.post("/my/withdraw-records", {"amount": "40.00", "callbackUrl": CALLBACK})
                               .json["result"])
    deps = dependencies(app)
    releaser = HoldReleaser(deps.pool, LedgerClient(frozen_ledger.url, deps.config, 60), deps.config)
    with ThreadPoolExecutor(1) as pool, frozen(gunicorn_workers(frozen_ledger)):
        releasing = pool.submit(releaser.release_now, user.user_no, request_no, 4100, "the agent call failed")
        wait_for(lambda: applying_status(db, request_no) == 2, what="the failure claimed before the ledger call")
        assert not releasing.done() and not locked(db, request_no)  # the release waits with no row lock
        # the bank's payment of the same withdraw arrives meanwhile: it is not applied
        assert settle("WITHDRAW", request_no, True, "40.00") == notifications.ANOMALY
        assert record_status(db, request_no) == 0
    assert releasing.result(timeout=30) is True  # thawed: the release lands
    assert record_status(db, request_no) == 2 and applying_status(db, request_no) is None
    assert release_row(db, request_no)["outcome"] == "refund"
    assert ledger.balance(user.user_no) == 10000 and ledger.trade_nos(user.user_no, 3) == [request_no]
    assert ledger.trade_nos(PLATFORM, 1).count(request_no) == 0  # no commission for a failed withdraw


def test_a_payment_waiting_on_a_frozen_ledger_holds_no_lock_and_keeps_its_hold(app, funded_user, db, ledger,
                                                                               frozen_ledger):
    user = funded_user("100.00")
    request_no = request_no_of(user.post("/my/withdraw-records", {"amount": "40.00", "callbackUrl": CALLBACK})
                               .json["result"])
    deps = dependencies(app)
    slow = LedgerClient(frozen_ledger.url, deps.config, 60)
    paid = notification("WITHDRAW", request_no, True, "40.00")
    with ThreadPoolExecutor(1) as pool, frozen(gunicorn_workers(frozen_ledger)):
        # the commission's add waits in the frozen ledger
        applying = pool.submit(notifications.apply, deps.pool, slow, deps.config["PLATFORM_NO"], paid)
        wait_for(lambda: applying_status(db, request_no) == 1, what="the payment claimed before the ledger call")
        assert not applying.done() and not locked(db, request_no)
        # a release of the same hold is asked meanwhile: the hold is the payment's debit, so it stays
        assert deps.holds.release_now(user.user_no, request_no, 4100, "the agent call failed") is False
        assert release_row(db, request_no)["outcome"] == "kept"
    assert applying.result(timeout=30) == notifications.APPLIED
    assert record_status(db, request_no) == 1 and applying_status(db, request_no) is None
    assert ledger.balance(user.user_no) == 10000 - 4100 and ledger.trade_nos(user.user_no, 3) == []
