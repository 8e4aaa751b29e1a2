"""``GET /internal/records`` (service token) for reconciliation, and the consumer re-asserting lost postings."""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from shared.ledger_client import LedgerClient
from tests.user_center.conftest import CALLBACK, notification, request_no_of
from tests.user_center.standins import LedgerStandIn

from user_center import notifications
from user_center.bootstrap import dependencies


@pytest.fixture(scope="module")
def service(infra) -> dict:
    return {"Authorization": f"Bearer {infra.internal_token}"}


def test_records_need_the_service_token(client, idle_user):
    assert client.get("/internal/records", query_string={"requestNo": "REQ_" + "0" * 32}).status_code == 401
    assert client.get("/internal/records", query_string={"requestNo": "REQ_" + "0" * 32},
                      headers=idle_user.headers).status_code == 401


def test_records_by_request_number_and_by_window(client, funded_user, service):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    user = funded_user("200.00")
    recharge = request_no_of(user.post("/my/recharge-records", {"amount": "12.34", "callbackUrl": CALLBACK})
                             .json["result"])
    withdraw = request_no_of(user.post("/my/withdraw-records", {"amount": "50.00", "callbackUrl": CALLBACK})
                             .json["result"])
    unknown = "REQ_" + "F" * 32
    answer = client.get("/internal/records", query_string=[("requestNo", recharge), ("requestNo", withdraw),
                                                           ("requestNo", unknown)], headers=service)
    assert answer.status_code == 200, answer.json
    found = {record["requestNo"]: record for record in answer.json["result"]["records"]}
    assert answer.json["result"]["total"] == 2 and set(found) == {recharge, withdraw}
    assert {k: found[recharge][k] for k in ("serviceName", "userNo", "amount", "commission", "callbackStatus")} == \
        {"serviceName": "RECHARGE", "userNo": user.user_no, "amount": 1234, "commission": 0, "callbackStatus": 0}
    assert (found[withdraw]["serviceName"], found[withdraw]["amount"], found[withdraw]["commission"]) == \
        ("WITHDRAW", 5000, 100)

    window = {"from": before.isoformat(), "to": (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()}
    listed, page = set(), 1
    while True:
        answer = client.get("/internal/records", query_string={**window, "page": page, "size": 2}, headers=service)
        assert answer.status_code == 200
        listed |= {record["requestNo"] for record in answer.json["result"]["records"]}
        if page * 2 >= answer.json["result"]["total"]:
            break
        page += 1
    assert {recharge, withdraw} <= listed
    past = {"from": "2020-01-01T00:00:00+08:00", "to": "2020-01-02T00:00:00+08:00"}
    assert client.get("/internal/records", query_string=past, headers=service).json["result"] == \
        {"total": 0, "records": []}


@pytest.mark.parametrize("query", [
    {}, {"from": "2020-01-01T00:00:00+00:00"}, {"requestNo": "REQ_1", },
    {"requestNo": "REQ_" + "0" * 32, "from": "2020-01-01T00:00:00+00:00", "to": "2020-01-02T00:00:00+00:00"},
    {"from": "2020-01-02T00:00:00+00:00", "to": "2020-01-01T00:00:00+00:00"},
    {"from": "2020-01-01T00:00:00", "to": "2020-01-02T00:00:00"},  # no offset: ambiguous
    {"from": "2020-01-01T00:00:00+00:00", "to": "2020-01-02T00:00:00+00:00", "size": 501}])
def test_bad_selections_are_400(client, service, query):
    answer = client.get("/internal/records", query_string=query, headers=service)
    assert answer.status_code == 400 and answer.json["code"] == 903


def test_at_most_80_request_numbers_which_fit_in_a_request_line(client, service):
    many = [("requestNo", f"REQ_{index:032X}") for index in range(81)]
    assert client.get("/internal/records", query_string=many, headers=service).status_code == 400
    assert client.get("/internal/records", query_string=many[:80], headers=service).status_code == 200
    line = f"GET /internal/records?{urlencode(many[:80] + [('size', 500)])} HTTP/1.1"
    assert len(line) <= 4094  # gunicorn's limit_request_line: the largest query still reaches the app


def test_a_duplicate_result_re_asserts_a_lost_ledger_posting(app, infra, opened_user):
    standin = LedgerStandIn(infra.internal_token).start()
    try:
        ledger = LedgerClient(standin.url, app.config)
        user = opened_user()
        request_no = request_no_of(user.post("/my/recharge-records", {"amount": "30.00", "callbackUrl": CALLBACK})
                                   .json["result"])
        message = notification("RECHARGE", request_no, True, "30.00")

        def apply() -> str:
            return notifications.apply(dependencies(app).pool, ledger, app.config["PLATFORM_NO"], dict(message))

        assert apply() == notifications.APPLIED
        standin.records.clear()
        standin.accounts[user.user_no] = 0  # the ledger lost the posting
        assert apply() == notifications.DUPLICATE
        assert [p["amount"] for p in standin.postings(user.user_no, 1)] == [3000]
        assert apply() == notifications.DUPLICATE
        assert standin.accounts[user.user_no] == 3000  # and only once
    finally:
        standin.stop()
