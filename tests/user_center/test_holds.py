"""Withdraw holds whose release failed are recorded and retried until the ledger refunds them."""
import pytest

from shared.errors import Unavailable
from shared.ledger_client import LedgerClient
from tests.user_center.conftest import CALLBACK, COMMISSION, request_no_of, wait_for
from tests.user_center.test_gateway_notify import WORKER, run_cli

from user_center.app import create_app
from user_center.holds import HoldReleaser


class RefundsFail(LedgerClient):
    """The real ledger, except that every refund fails as if the ledger had just gone away."""

    def refund(self, eid: str, trade_no: str, amount: int) -> dict:
        raise Unavailable("ledger unreachable: ConnectionError")


@pytest.fixture(scope="module")
def refunds_fail(infra, ledger, agent):
    """user-center on the same database whose ledger refunds fail (deducts work)."""
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  WITHDRAW_COMMISSION=COMMISSION))
    flaky = RefundsFail(ledger.url, app.config)
    app.extensions["ledger"] = flaky
    app.extensions["holds"] = HoldReleaser(app.extensions["db"], flaky, app.config)
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
