"""Fault knobs, observed at the receiver: duplicates, dropped first attempts, delay, reordering; and the
answers of POST /service delayed past the caller's timeout or lost after the bank committed (the cases
the agent's compensation exists for), observed over HTTP against a real gunicorn bank."""
import random
import time

import pytest
import requests

from bank_sandbox.bootstrap import create_app, dependencies
from bank_sandbox.delivery import run_once
from bank_sandbox.faults import Faults, stamp
from tests.bank_sandbox.conftest import fetch_all, request_times
from tests.bank_sandbox.test_delivery import drain


def _set(client, infra, **knobs):
    answer = client.post("/sandbox/faults", json=knobs, headers={"Authorization": f"Bearer {infra.internal_token}"})
    assert answer.status_code == 200, answer.json
    return answer.json


def _recharges(client, platform, user_no, count):
    numbers = []
    for _ in range(count):
        payload = platform.recharge(user_no, "1.00")
        assert client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", payload)).json["status"] == 1
        numbers.append(payload["requestNo"])
    return numbers


def _sent(receiver, platform):
    return [platform.read_notification(call.query)["requestNo"] for call in receiver.calls
            if call.query.get("serviceName") == "RECHARGE"]


def _settle_opening(pool, settings, receiver):
    """Deliver the account opening's notification, then start the receiver's record afresh."""
    run_once(pool, settings)
    receiver.reset()


def _attempts(pool, request_no):
    return fetch_all(pool, "select a.attempt, a.kind, a.accepted from delivery_attempts a join deliveries d"
                           " on d.id = a.delivery_id where d.reference = %s order by a.id", request_no)


def test_faults_need_the_service_token_and_validate(client, infra):
    assert client.get("/sandbox/faults").status_code == 401
    assert client.post("/sandbox/faults", json={"duplicates": 1}).status_code == 401
    token = {"Authorization": f"Bearer {infra.internal_token}"}
    shown = client.get("/sandbox/faults", headers=token).json
    assert shown["source"] == "configuration" and shown["duplicates"] == 0 and shown["reorder"] == "none"
    for bad in ({"duplicates": -1}, {"reorder": "sideways"}, {"duplicateProbability": 2}, {"dropProbability": -0.1},
                {"surprise": 1}, {}, {"serviceDelaySeconds": 26}, {"serviceDelaySeconds": -1},
                {"serviceLoseAnswer": "drop"}, {"serviceFaultProbability": 1.5}):
        assert client.post("/sandbox/faults", json=bad, headers=token).status_code == 400, bad
    assert client.post("/sandbox/faults", headers=token).status_code == 400  # no body: nothing to change
    assert _set(client, infra, dropFirst=2)["source"] == "api"
    assert _set(client, infra, delaySeconds=1.5) | {"source": "api"} == {**shown, "dropFirst": 2, "delaySeconds": 1.5,
                                                                          "source": "api"}
    reset = client.delete("/sandbox/faults", headers=token).json
    assert reset == shown


def test_the_configuration_sets_the_knobs(infra, settings):
    app = create_app({**settings, "SANDBOX_FAULT_DROP_FIRST": 3, "SANDBOX_FAULT_REORDER": "shuffle",
                      "SANDBOX_FAULT_SERVICE_DELAY_SECONDS": "2.5", "SANDBOX_FAULT_SERVICE_LOSE_ANSWER": "close",
                      "SANDBOX_FAULT_SERVICE_PROBABILITY": "0.5"})
    try:
        shown = app.test_client().get("/sandbox/faults",
                                      headers={"Authorization": f"Bearer {infra.internal_token}"}).json
    finally:
        dependencies(app).close()
    assert shown["dropFirst"] == 3 and shown["reorder"] == "shuffle" and shown["source"] == "configuration"
    assert (shown["serviceDelaySeconds"], shown["serviceLoseAnswer"], shown["serviceFaultProbability"]) == \
        (2.5, "close", 0.5)


def test_duplicates_send_a_delivered_notification_again(client, pool, settings, platform, receiver, infra,
                                                        opened_user):
    _settle_opening(pool, settings, receiver)
    _set(client, infra, duplicates=2)
    [request_no] = _recharges(client, platform, opened_user, 1)
    drain(pool, settings, lambda: len(receiver.calls) >= 3)
    run_once(pool, settings)
    assert _sent(receiver, platform) == [request_no] * 3
    assert len({call.query["signature"] for call in receiver.calls}) == 1
    kinds = [row["kind"] for row in _attempts(pool, request_no)]
    assert kinds == ["send", "duplicate", "duplicate"]


def test_drop_first_attempts_are_failures_not_sends(client, pool, settings, platform, receiver, infra, opened_user):
    _settle_opening(pool, settings, receiver)
    _set(client, infra, dropFirst=2)
    [request_no] = _recharges(client, platform, opened_user, 1)
    drain(pool, settings, lambda: receiver.calls)
    assert [(row["attempt"], row["kind"], row["accepted"]) for row in _attempts(pool, request_no)] == [
        (1, "drop", False), (2, "drop", False), (3, "send", True)]
    assert _sent(receiver, platform) == [request_no]


def test_drop_probability_drops_the_first_attempts_of_some_deliveries_only():
    rng = random.Random(7)
    knobs = Faults(dropFirst=2, dropProbability=0.25, duplicates=1, duplicateProbability=0.5)
    stamps = [stamp(knobs, rng) for _ in range(2000)]
    dropped = [s.drops for s in stamps if s.drops]
    assert set(dropped) == {2} and 400 <= len(dropped) <= 600  # about a quarter, each with all its drops
    assert 900 <= sum(s.duplicates for s in stamps) <= 1100
    assert {stamp(Faults(dropFirst=1, dropProbability=0), rng).drops for _ in range(50)} == {0}
    assert {stamp(Faults(dropFirst=1), rng).drops for _ in range(50)} == {1}  # the default: every delivery


def test_delay_holds_new_deliveries(client, pool, settings, platform, receiver, infra, opened_user):
    _settle_opening(pool, settings, receiver)
    _set(client, infra, delaySeconds=0.4)
    started = time.monotonic()
    _recharges(client, platform, opened_user, 1)
    assert run_once(pool, settings) == 0 and receiver.calls == []
    drain(pool, settings, lambda: receiver.calls)
    assert receiver.calls[0].at - started >= 0.4


def test_reorder_sends_a_held_batch_newest_first(client, pool, settings, platform, receiver, infra, opened_user):
    _settle_opening(pool, settings, receiver)
    _set(client, infra, reorder="newest_first", reorderBatch=3, reorderHoldSeconds=30)
    first_two = _recharges(client, platform, opened_user, 2)
    assert run_once(pool, settings) == 0  # held: only 2 of a batch of 3
    third = _recharges(client, platform, opened_user, 1)
    run_once(pool, settings)
    assert _sent(receiver, platform) == list(reversed(first_two + third))


def test_reorder_shuffle_sends_all_of_them(client, pool, settings, platform, receiver, infra, opened_user):
    _settle_opening(pool, settings, receiver)
    _set(client, infra, reorder="shuffle", reorderBatch=5, reorderHoldSeconds=0.2)
    numbers = _recharges(client, platform, opened_user, 4)
    time.sleep(0.25)  # fewer than a batch: released once the oldest has waited long enough
    run_once(pool, settings)
    assert sorted(_sent(receiver, platform)) == sorted(numbers)


def _set_at(sandbox, infra, **knobs):
    answer = sandbox.session.post(f"{sandbox.url}/sandbox/faults", json=knobs, timeout=10,
                                  headers={"Authorization": f"Bearer {infra.internal_token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _tender(sandbox, platform):
    borrower, lender = sandbox.open_user(), sandbox.open_user("100.00")
    return lender, platform.freeze(lender, "10.00", "TENDER", sandbox.project(borrower))


def _settled_at_the_bank(sandbox, platform, request_no, code="00000"):
    """What compensation would learn: the bank's signed result for the requestNo."""
    query = sandbox.query(request_no)
    assert query.status_code == 200, query.text
    result = platform.read_notification(query.json())
    assert (result["requestNo"], result["respCode"]) == (request_no, code)
    return result


def test_an_answer_delayed_past_the_callers_timeout_comes_after_the_bank_committed(sandbox, platform, infra):
    lender, tender = _tender(sandbox, platform)
    assert _set_at(sandbox, infra, serviceDelaySeconds=3)["serviceDelaySeconds"] == 3
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        sandbox.session.post(f"{sandbox.url}/service", data=platform.gateway_params(
            "USER_AUTO_PRE_TRANSACTION", tender), timeout=1)
    _settled_at_the_bank(sandbox, platform, tender["requestNo"])  # committed while the answer waits
    assert time.monotonic() - started < 3
    assert sandbox.balances(lender) == (9000, 1000)
    started = time.monotonic()
    assert sandbox.code("USER_AUTO_PRE_TRANSACTION", tender) == "00000"
    assert time.monotonic() - started < 1.5  # a repeat commits nothing new: answered at once
    assert sandbox.balances(lender) == (9000, 1000)  # moved once


@pytest.mark.parametrize("mode", ["close", "error"])
def test_an_answer_lost_after_the_commit_leaves_the_result_to_the_query(sandbox, platform, infra, mode):
    lender, tender = _tender(sandbox, platform)
    _set_at(sandbox, infra, serviceLoseAnswer=mode)
    params = platform.gateway_params("USER_AUTO_PRE_TRANSACTION", tender)
    if mode == "close":
        with pytest.raises(requests.ConnectionError):
            sandbox.session.post(f"{sandbox.url}/service", data=params, timeout=10)
    else:
        lost = sandbox.session.post(f"{sandbox.url}/service", data=params, timeout=10)
        assert lost.status_code == 502 and "respData" not in lost.json()
    _settled_at_the_bank(sandbox, platform, tender["requestNo"])
    assert sandbox.balances(lender) == (9000, 1000)
    # a refusal the bank recorded is lost the same way, and the query tells it
    too_much = platform.freeze(lender, "90.01", "TENDER", tender["projectNo"])
    answer = None
    try:
        answer = sandbox.session.post(f"{sandbox.url}/service", timeout=10,
                                      data=platform.gateway_params("USER_AUTO_PRE_TRANSACTION", too_much))
    except requests.ConnectionError:
        assert mode == "close"
    assert mode == "close" or answer.status_code == 502
    _settled_at_the_bank(sandbox, platform, too_much["requestNo"], "30042")
    # the caller's repeat learns each result from the bank itself, and nothing moves again
    assert sandbox.code("USER_AUTO_PRE_TRANSACTION", tender) == "00000"
    assert sandbox.code("USER_AUTO_PRE_TRANSACTION", too_much) == "30042"
    assert sandbox.balances(lender) == (9000, 1000)


def test_answer_faults_apply_by_their_probability_and_only_to_new_results(sandbox, platform, infra):
    lender, tender = _tender(sandbox, platform)
    _set_at(sandbox, infra, serviceLoseAnswer="error", serviceFaultProbability=0)
    assert sandbox.code("USER_AUTO_PRE_TRANSACTION", tender) == "00000"
    _set_at(sandbox, infra, serviceFaultProbability=1)
    assert sandbox.code("USER_AUTO_PRE_TRANSACTION", tender) == "00000"  # a repeat: nothing new committed
    stale = platform.freeze(lender, "1.00", "TENDER", tender["projectNo"], **request_times(expires_in=-1))
    assert sandbox.call("USER_AUTO_PRE_TRANSACTION", stale)[1]["respCode"] == "20007"  # nothing committed
