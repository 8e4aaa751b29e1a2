"""A request's expired: confirmed one second before it, refused one second after it (page, form and
/sandbox/confirm: 4xx with the bank's code 20007, nothing recorded, no money moved), and a request
still pending after it is closed as failed by the bank's query."""
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.bank_sandbox.conftest import PASSWORD, fetch_all, fetch_one, request_times

HTML = {"Accept": "text/html"}
CST = timezone(timedelta(hours=8))


def second_start() -> datetime:
    """The current second, waited for until it has just begun (so that "one second before" holds)."""
    while time.time() % 1 > 0.15:
        time.sleep(0.01)
    return datetime.fromtimestamp(int(time.time()), timezone.utc)


def _expiring(build, offset: int) -> dict:
    """A request whose expired is ``offset`` seconds from the second that has just begun."""
    return build(**request_times(offset, now=second_start()))


def _wait_past(payload: dict) -> None:
    """Until the request's expired (a China Standard Time second) has passed."""
    expires = datetime.strptime(payload["expired"], "%Y%m%d%H%M%S").replace(tzinfo=CST).timestamp()
    while time.time() <= expires + 0.05:
        time.sleep(0.02)


def _stored(pool, request_no):
    return fetch_one(pool, "select * from bank_requests where request_no = %s", request_no)


def _balances(pool, user_no):
    return fetch_one(pool, "select card_balance, bank_balance from bank_users where user_no = %s", user_no)


def assert_expired(answer) -> None:
    assert answer.status_code == 400, answer.text
    if answer.mimetype == "text/html":
        assert "20007" in answer.text and "expired" in answer.text
    else:
        assert answer.json["code"] == 20007 and answer.json["respCode"] == "20007", answer.json
        assert "expired" in answer.json["msg"]


@pytest.mark.parametrize("service", ["RECHARGE", "WITHDRAW"])
def test_confirmed_one_second_before_expiry_and_refused_one_second_after(client, pool, platform, opened_user,
                                                                         service):
    assert client.post("/sandbox/confirm", json=platform.confirm_body(
        "RECHARGE", platform.recharge(opened_user, "100.00"))).json["status"] == 1
    build = (lambda **times: platform.recharge(opened_user, "40.00", **times)) if service == "RECHARGE" else \
        (lambda **times: platform.withdraw(opened_user, "40.00", "0.50", **times))

    stale = _expiring(build, -1)
    before = _balances(pool, opened_user)
    assert_expired(client.post("/sandbox/confirm", json=platform.confirm_body(service, stale)))
    assert_expired(client.get("/gateway", query_string=platform.gateway_params(service, stale)))
    assert_expired(client.get("/gateway", query_string=platform.gateway_params(service, stale), headers=HTML))
    assert _stored(pool, stale["requestNo"]) is None
    assert fetch_all(pool, "select id from deliveries where reference = %s", stale["requestNo"]) == []
    assert _balances(pool, opened_user) == before

    fresh = _expiring(build, 1)
    answer = client.post("/sandbox/confirm", json=platform.confirm_body(service, fresh))
    assert answer.status_code == 200 and answer.json["status"] == 1, answer.json
    assert _balances(pool, opened_user) != before


def test_a_page_opened_in_time_cannot_be_confirmed_once_expired(client, pool, platform, opened_user):
    payload = _expiring(lambda **times: platform.withdraw(opened_user, "1.00", "0.00", **times), 1)
    page = client.get("/gateway", query_string=platform.gateway_params("WITHDRAW", payload), headers=HTML)
    assert page.status_code == 200 and "Valid until" in page.text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    _wait_past(payload)
    before = _balances(pool, opened_user)
    assert_expired(client.post("/gateway/confirm", data={**form, "password": PASSWORD}, headers=HTML))
    assert_expired(client.post("/gateway/confirm", data={**form, "action": "cancel"}))
    assert _stored(pool, payload["requestNo"])["status"] == 0
    assert _balances(pool, opened_user) == before
    assert fetch_all(pool, "select id from deliveries where reference = %s", payload["requestNo"]) == []


def test_the_query_closes_a_request_still_pending_after_its_expiry(client, pool, platform, opened_user):
    payload = _expiring(lambda **times: platform.withdraw(opened_user, "1.00", "0.00", **times), 1)
    assert client.get("/gateway", query_string=platform.gateway_params("WITHDRAW", payload)).status_code == 200
    query = {"platformNo": "WANXINP2P", "requestNo": payload["requestNo"]}
    assert platform.read_notification(client.get("/service/query", query_string=query).json)["status"] == 0
    _wait_past(payload)
    closed = platform.read_notification(client.get("/service/query", query_string=query).json)
    assert closed == {"requestNo": payload["requestNo"], "respCode": "20007",
                      "respMsg": "request expired before it was confirmed", "status": 2,
                      "transactionStatus": "FAIL", "amount": "1.00"}
    row = _stored(pool, payload["requestNo"])
    assert (row["status"], row["resp_code"]) == (2, "20007")
    [delivery] = fetch_all(pool, "select params from deliveries where reference = %s", payload["requestNo"])
    assert platform.read_notification(delivery["params"]) == closed
    # the user's later attempt meets a final request
    again = client.post("/sandbox/confirm", json=platform.confirm_body("WITHDRAW", payload))
    assert again.status_code in (400, 409)


@pytest.mark.parametrize("times", [
    {"timestamp": None, "expired": None},
    {"expired": None},
    {"expired": "2099010100000"},
    {"expired": "20991301000000"},
    {"expired": " 20990101000000"},
    {"expired": 20990101000000},
    {"timestamp": "20990101000001", "expired": "20990101000000"},
])
def test_a_missing_or_malformed_expiry_is_refused(client, pool, platform, opened_user, times):
    payload = {**platform.recharge(opened_user, "1.00"), **times}
    payload = {name: value for name, value in payload.items() if value is not None}
    answer = client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", payload))
    assert answer.status_code == 400 and answer.json["code"] == 903, answer.json
    assert "timestamp" in answer.json["msg"] or "expired" in answer.json["msg"]
    assert _stored(pool, payload["requestNo"]) is None
