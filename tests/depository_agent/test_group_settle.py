"""Group commit of notifications: one statement settles many; each notification keeps its own outcome."""
import threading

import psycopg
import pytest

from shared.db import create_pool
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE
from shared.errors import Conflict, NotFound

from depository_agent.repository import records
from depository_agent.group_settle import GroupSettler
from depository_agent.notifications import CONFLICTING, DUPLICATE, SETTLED, bank_result as build_result

from tests.depository_agent.conftest import SERVICE, bank_result, new_request_no, outbox_of, record_of


@pytest.fixture(scope="module")
def settler(infra, agent_db):
    pool = create_pool(infra.config(SERVICE, DB_POOL_MIN=1, DB_POOL_MAX=4), "test-group-settle", autocommit=True)
    yield GroupSettler(pool, max_group=64)
    pool.close()


def run_together(calls: list) -> list:
    """Run every ``(function, args)`` at the same moment in its own thread; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, function, args):
        barrier.wait()
        try:
            outcomes[index] = function(*args)
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, f, a)) for i, (f, a) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_one_statement_gives_each_result_its_own_outcome(make_request, db):
    pending, _ = make_request("RECHARGE")
    final, _ = make_request("WITHDRAW")
    wrong_amount, _ = make_request("RECHARGE")
    wrong_service, _ = make_request("WITHDRAW")
    with db.transaction():
        [done] = records.apply_results(db, [build_result("WITHDRAW", bank_result(
            "WITHDRAW", final["requestNo"], amount="50.00"), "NOTIFICATION")])
    assert done["settled"]
    results = [build_result("RECHARGE", bank_result("RECHARGE", pending["requestNo"]), "NOTIFICATION"),
               build_result("WITHDRAW", bank_result("WITHDRAW", final["requestNo"], amount="50.00"), "NOTIFICATION"),
               build_result("RECHARGE", bank_result("RECHARGE", new_request_no()), "NOTIFICATION"),
               build_result("RECHARGE", bank_result("RECHARGE", wrong_amount["requestNo"], amount="1.00"),
                            "NOTIFICATION"),
               build_result("RECHARGE", bank_result("RECHARGE", wrong_service["requestNo"]), "NOTIFICATION")]
    with db.transaction():
        found = records.apply_results(db, results)
    assert [None if r is None else (r["request_status"], r["settled"]) for r in found] == [
        (0, True), (1, False), None, (0, False), (0, False)]
    assert record_of(db, pending["requestNo"])["request_status"] == 1
    assert len(outbox_of(db, pending["requestNo"])) == 1
    for untouched in (wrong_amount, wrong_service):
        assert record_of(db, untouched["requestNo"])["request_status"] == 0
        assert outbox_of(db, untouched["requestNo"]) == []


def test_concurrent_results_for_one_request_settle_it_exactly_once(settler, make_request, db):
    body, _ = make_request("RECHARGE")
    success = bank_result("RECHARGE", body["requestNo"])
    failure = bank_result("RECHARGE", body["requestNo"], success=False)
    outcomes = run_together([(settler.settle, ("RECHARGE", success if i % 2 else failure, "NOTIFICATION"))
                             for i in range(12)])
    assert outcomes.count(SETTLED) == 1
    assert set(outcomes) <= {SETTLED, DUPLICATE, CONFLICTING}
    winner = record_of(db, body["requestNo"])["request_status"]
    assert outcomes.count(DUPLICATE) == 5  # the other notifications with the winning status
    assert outcomes.count(CONFLICTING) == 6
    assert len(outbox_of(db, body["requestNo"])) == 1
    [exception] = db.execute("select * from depository_exception where request_no = %s",
                             (body["requestNo"],)).fetchall()
    assert (exception["kind"], exception["attempts"]) == ("CONFLICTING_RESULT", 6)
    assert exception["detail"]["recordStatus"] == winner


def test_a_refused_result_fails_alone_and_the_rest_of_its_group_settles(settler, make_request, db):
    bodies = [make_request("RECHARGE")[0] for _ in range(6)]
    refused = bodies[2]["requestNo"]
    # an outbox row already holding this result's message id: PostgreSQL refuses the insert
    db.execute("insert into outbox (exchange, routing_key, message_id, body) values (%s, 'RECHARGE', %s, '{}')",
               (GATEWAY_NOTIFY_EXCHANGE, f"RECHARGE:{refused}"))
    calls = [(settler.settle, ("RECHARGE", bank_result("RECHARGE", body["requestNo"]), "NOTIFICATION"))
             for body in bodies]
    calls += [(settler.settle, ("RECHARGE", bank_result("RECHARGE", new_request_no()), "NOTIFICATION")),
              (settler.settle, ("RECHARGE", bank_result("RECHARGE", bodies[0]["requestNo"], amount="2.00"),
                                "NOTIFICATION"))]
    outcomes = run_together(calls)
    assert isinstance(outcomes[2], psycopg.errors.UniqueViolation)
    assert record_of(db, refused)["request_status"] == 0
    assert isinstance(outcomes[6], NotFound) and isinstance(outcomes[7], Conflict)
    for index, body in enumerate(bodies):
        if index != 2:
            assert outcomes[index] == SETTLED
            assert record_of(db, body["requestNo"])["request_status"] == 1


def test_notifications_arriving_while_a_group_is_in_the_database_share_the_next_one(
        settler, make_request, db, agent_db, monkeypatch):
    groups = []
    apply_results = records.apply_results
    monkeypatch.setattr(records, "apply_results", lambda conn, results: (
        groups.append(len(results)), apply_results(conn, results))[1])
    first, *others = [make_request("RECHARGE")[0] for _ in range(9)]
    with psycopg.connect(agent_db) as holder:  # keeps the first group waiting for its row lock
        holder.execute("select 1 from depository_record where request_no = %s for update", (first["requestNo"],))
        blocked = threading.Thread(target=settler.settle,
                                   args=("RECHARGE", bank_result("RECHARGE", first["requestNo"]), "NOTIFICATION"))
        blocked.start()
        while not groups:
            threading.Event().wait(0.01)
        waiting = [threading.Thread(target=settler.settle, args=(
            "RECHARGE", bank_result("RECHARGE", body["requestNo"]), "NOTIFICATION")) for body in others]
        for thread in waiting:
            thread.start()
        threading.Event().wait(0.3)  # every one is queued behind the blocked group
        holder.rollback()
    for thread in [blocked, *waiting]:
        thread.join(10)
    assert groups == [1, 8]
    assert all(record_of(db, body["requestNo"])["request_status"] == 1 for body in [first, *others])
