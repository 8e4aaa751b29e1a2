"""Requests whose agent call failed and whose failure could not be written either (the database went
away with the agent) are failed by the sweep, but only when the agent does not know them."""

import pytest

from tests.user_center.conftest import CALLBACK, open_form, request_no_of, wait_for
from tests.user_center.test_gateway_notify import WORKER, run_cli

AGED = "now() - interval '2 hours'"


def status(db, table: str, request_no: str) -> int:
    return db.execute(f"select callback_status from {table} where request_no = %s",
                      (request_no,)).fetchone()["callback_status"]


def depository_status(db, user_no: str) -> str:
    return db.execute("select depository_status from consumer where user_no = %s",
                      (user_no,)).fetchone()["depository_status"]


def unsettled(db, agent, user, path: str, body: dict, table: str, aged: bool = True) -> str:
    """A request whose agent call failed (503) and whose failure was, as it were, never written."""
    agent.fail_with = 503
    answer = user.post(path, body)
    agent.fail_with = None
    assert answer.status_code == 503
    request_no = agent.calls[-1][1]["requestNo"]
    assert status(db, table, request_no) == 2  # the request path fails it at once when it can
    db.execute(f"update {table} set callback_status = 0, created_at = {AGED if aged else 'now()'}"
               " where request_no = %s", (request_no,))
    return request_no


def age(db, table: str, request_no: str) -> None:
    db.execute(f"update {table} set created_at = {AGED} where request_no = %s", (request_no,))


def test_the_command_fails_only_old_requests_the_agent_never_received(opened_user, make_user, settle, agent, db,
                                                                        ledger, cli_env):
    payer = opened_user()
    recharge = {"amount": "100.00", "callbackUrl": CALLBACK}
    orphan = unsettled(db, agent, payer, "/my/recharge-records", recharge, "recharge_record")
    fresh = unsettled(db, agent, payer, "/my/recharge-records", recharge, "recharge_record", aged=False)
    live = request_no_of(payer.post("/my/recharge-records", recharge).json["result"])  # the bank may settle it
    age(db, "recharge_record", live)

    opener = make_user()  # its only attempt is lost: the account opening fails
    lost_attempt = unsettled(db, agent, opener, "/my/consumers", open_form(), "depository_register")
    db.execute("update consumer set depository_status = 'PENDING' where user_no = %s", (opener.user_no,))
    retried = make_user()  # a lost attempt, then a second one that opened the account
    old_attempt = unsettled(db, agent, retried, "/my/consumers", open_form(), "depository_register")
    settle("PERSONAL_REGISTER", request_no_of(retried.post("/my/consumers", open_form()).json["result"]))
    waiting = make_user()  # an attempt the agent has: the user is still at the bank's page
    waiting_attempt = request_no_of(waiting.post("/my/consumers", open_form()).json["result"])
    age(db, "depository_register", waiting_attempt)

    down = run_cli({**cli_env, "DEPOSITORY_AGENT_URL": "http://127.0.0.1:9"}, "requests", "sweep")
    assert down.returncode == 1 and "unreachable" in down.stdout
    assert status(db, "recharge_record", orphan) == 0  # nothing is failed without the agent's word

    swept = run_cli(cli_env, "requests", "sweep")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "requests sweep: 3 failed, 0 adopted" in swept.stdout
    assert [status(db, "recharge_record", no) for no in (orphan, fresh, live)] == [2, 0, 0]
    assert [status(db, "depository_register", no) for no in (lost_attempt, old_attempt, waiting_attempt)] == [2, 2, 0]
    assert [depository_status(db, user.user_no) for user in (opener, retried, waiting)] == \
        ["FAILED", "OPENED", "PENDING"]
    assert ledger.balance(payer.user_no) == 0 and ledger.trade_nos(payer.user_no, 1) == []

    again = run_cli(cli_env, "requests", "sweep")
    assert again.returncode == 0 and "0 failed, 0 adopted, 0 released" in again.stdout


def test_the_consumer_loop_fails_orphaned_recharges(opened_user, agent, db, procs, cli_env):
    user = opened_user()
    orphan = unsettled(db, agent, user, "/my/recharge-records", {"amount": "8.00", "callbackUrl": CALLBACK},
                       "recharge_record")
    worker = procs.worker(WORKER, {**cli_env, "HOLD_SWEEP_MS": "200"})
    wait_for(lambda: status(db, "recharge_record", orphan) == 2, what="orphan failed by the consumer's sweep")
    wait_for(lambda: '"alert": "request-orphan"' in worker.log_path.read_text(), what="the orphan alert")


@pytest.mark.parametrize("answer", [
    (404, {"code": 908, "msg": "The requested URL was not found on the server."}),  # a wrong path, an older agent
    (404, {"message": "no route"}),  # a proxy's own 404
    (200, {"code": 0, "msg": "success", "result": None}),
])
def test_only_the_agents_own_no_such_record_counts_as_never_received(opened_user, agent, db, cli_env, answer):
    user = opened_user()
    orphan = unsettled(db, agent, user, "/my/recharge-records", {"amount": "9.00", "callbackUrl": CALLBACK},
                       "recharge_record")
    agent.record_answer = answer
    swept = run_cli(cli_env, "requests", "sweep")
    assert swept.returncode == 1 and "outcome unknown" in swept.stdout, swept.stdout + swept.stderr
    assert status(db, "recharge_record", orphan) == 0  # unknown: neither failed nor forgotten
    agent.record_answer = None
    assert run_cli(cli_env, "requests", "sweep").returncode == 0
    assert status(db, "recharge_record", orphan) == 2
