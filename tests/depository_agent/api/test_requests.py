"""/l/ endpoints: service auth, strict validation, record before signature, idempotency by requestNo."""
import base64
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from depository_agent.bootstrap import create_app

from tests.depository_agent.conftest import (
    SERVICE,
    consumer_body,
    new_request_no,
    record_of,
    recharge_body,
    withdraw_body,
)
from tests.support.waiting import wait_for

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize("method, path", [("POST", "/l/consumers"), ("POST", "/l/recharges"),
                                          ("POST", "/l/withdraws"), ("GET", f"/l/records/{new_request_no()}")])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic x"}])
def test_refuses_without_service_token(client, db, method, path, headers):
    body = recharge_body()
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == 901
    assert record_of(db, body["requestNo"]) is None


def test_consumer_request_is_recorded_then_signed(client, auth, db):
    body = consumer_body()
    response = client.post("/l/consumers", json=body, headers=auth)
    assert response.status_code == 200
    envelope = response.get_json()
    assert envelope["code"] == 0 and envelope["msg"] == "success"
    gateway = envelope["result"]
    assert gateway["serviceName"] == "PERSONAL_REGISTER"
    assert gateway["platformNo"] == "WANXINP2P"
    assert gateway["depositoryUrl"] == "http://bank.test:8005/gateway"
    signed = json.loads(base64.b64decode(gateway["reqData"]))
    assert list(signed) == ["requestNo", "userNo", "fullname", "idNumber", "bankCode", "cardNumber", "mobile",
                            "role", "callbackUrl", "timestamp", "expired"]
    assert without_times(signed) == body
    record = record_of(db, body["requestNo"])
    assert record["request_type"] == "CONSUMER_CREATE"
    assert (record["object_type"], record["object_id"]) == ("CONSUMER", body["userNo"])
    assert record["request_status"] == 0 and record["confirm_date"] is None
    assert record["request_data"] == signed and record["amount"] is None


def test_recharge_amount_is_signed_as_a_normalised_string_and_stored_in_fen(client, auth, db):
    body = recharge_body(amount="100.5")
    gateway = client.post("/l/recharges", json=body, headers=auth).get_json()["result"]
    signed = json.loads(base64.b64decode(gateway["reqData"]))
    assert list(signed) == ["requestNo", "userNo", "amount", "callbackUrl", "timestamp", "expired"]
    assert signed["amount"] == "100.50"
    record = record_of(db, body["requestNo"])
    assert (record["request_type"], record["amount"], record["commission"]) == ("RECHARGE", 10050, None)


def test_withdraw_allows_zero_commission(client, auth, db):
    body = withdraw_body(commission="0")
    gateway = client.post("/l/withdraws", json=body, headers=auth).get_json()["result"]
    signed = json.loads(base64.b64decode(gateway["reqData"]))
    assert list(signed) == ["requestNo", "userNo", "amount", "commission", "cardNumber", "mobile", "callbackUrl",
                            "timestamp", "expired"]
    assert (signed["amount"], signed["commission"]) == ("50.00", "0.00")
    record = record_of(db, body["requestNo"])
    assert (record["request_type"], record["amount"], record["commission"]) == ("WITHDRAW", 5000, 0)


@pytest.mark.parametrize("path, build", [("/l/consumers", consumer_body), ("/l/recharges", recharge_body),
                                         ("/l/withdraws", withdraw_body)])
def test_same_request_twice_returns_the_same_gateway_request(client, auth, db, path, build):
    body = build()
    first = client.post(path, json=body, headers=auth)
    second = client.post(path, json=dict(reversed(list(body.items()))), headers=auth)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert db.execute("select count(*) as n from depository_record where request_no = %s",
                      (body["requestNo"],)).fetchone()["n"] == 1


def without_times(signed: dict) -> dict:
    return {name: value for name, value in signed.items() if name not in ("timestamp", "expired")}


def test_every_request_carries_when_it_was_signed_and_when_it_expires(client, auth, db):
    before = datetime.now(CST).replace(microsecond=0)
    body = recharge_body()
    gateway = client.post("/l/recharges", json=body, headers=auth).get_json()["result"]
    after = datetime.now(CST)
    signed = json.loads(base64.b64decode(gateway["reqData"]))
    assert re.fullmatch(r"[0-9]{14}", signed["timestamp"]) and re.fullmatch(r"[0-9]{14}", signed["expired"])
    timestamp = datetime.strptime(signed["timestamp"], "%Y%m%d%H%M%S").replace(tzinfo=CST)  # China Standard Time
    expired = datetime.strptime(signed["expired"], "%Y%m%d%H%M%S").replace(tzinfo=CST)
    assert before <= timestamp <= after
    assert expired - timestamp == timedelta(seconds=1800)  # GATEWAY_REQUEST_TTL_SECONDS' default
    assert record_of(db, body["requestNo"])["expires_at"] == expired


def test_a_replay_seconds_later_answers_the_very_same_request(client, auth, db):
    body = withdraw_body()
    first = client.post("/l/withdraws", json=body, headers=auth).get_json()
    signed_at = json.loads(base64.b64decode(first["result"]["reqData"]))["timestamp"]
    wait_for(lambda: datetime.now(CST).strftime("%Y%m%d%H%M%S") != signed_at, timeout=5, what="the next second")
    assert client.post("/l/withdraws", json=body, headers=auth).get_json() == first


def test_the_expiry_follows_the_configured_lifetime(infra, agent_db, auth):
    app = create_app(infra.config("depository_agent", GATEWAY_REQUEST_TTL_SECONDS=90))
    try:
        gateway = app.test_client().post("/l/recharges", json=recharge_body(), headers=auth).get_json()["result"]
    finally:
        app.extensions["depository_agent"].close()
    signed = json.loads(base64.b64decode(gateway["reqData"]))
    times = [datetime.strptime(signed[name], "%Y%m%d%H%M%S") for name in ("timestamp", "expired")]
    assert times[1] - times[0] == timedelta(seconds=90)


def test_same_request_no_with_a_different_body_is_a_conflict(client, auth, db):
    body = recharge_body()
    assert client.post("/l/recharges", json=body, headers=auth).status_code == 200
    before = record_of(db, body["requestNo"])
    changed = client.post("/l/recharges", json={**body, "amount": "100.01"}, headers=auth)
    assert changed.status_code == 409
    assert body["requestNo"] in changed.get_json()["msg"]
    other_kind = client.post("/l/withdraws", json=withdraw_body(requestNo=body["requestNo"], userNo=body["userNo"],
                                                                amount="100.00"), headers=auth)
    assert other_kind.status_code == 409
    assert record_of(db, body["requestNo"]) == before


def test_an_equal_amount_written_differently_is_the_same_request(client, auth):
    body = recharge_body(amount="100")
    first = client.post("/l/recharges", json=body, headers=auth).get_json()
    second = client.post("/l/recharges", json={**body, "amount": "100.00"}, headers=auth).get_json()
    assert first == second


BAD_INPUTS = [
    ("/l/recharges", recharge_body, {"requestNo": "REQ_" + "a" * 32}, "requestNo"),
    ("/l/recharges", recharge_body, {"requestNo": "REQ_123"}, "requestNo"),
    ("/l/recharges", recharge_body, {"userNo": "USR_" + "G" * 32}, "userNo"),
    ("/l/recharges", recharge_body, {"amount": "0.00"}, "amount"),
    ("/l/recharges", recharge_body, {"amount": "-1.00"}, "amount"),
    ("/l/recharges", recharge_body, {"amount": "1.001"}, "amount"),
    ("/l/recharges", recharge_body, {"amount": "1e3"}, "amount"),
    ("/l/recharges", recharge_body, {"amount": "NaN"}, "amount"),
    ("/l/recharges", recharge_body, {"amount": 100.5}, "amount"),
    ("/l/recharges", recharge_body, {"amount": "1000000.01"}, "amount"),
    ("/l/recharges", recharge_body, {"amount": "007.00"}, "amount"),
    ("/l/recharges", recharge_body, {"callbackUrl": "javascript:alert(1)"}, "callbackUrl"),
    ("/l/recharges", recharge_body, {"callbackUrl": "http://x/" + "a" * 1100}, "callbackUrl"),
    ("/l/withdraws", withdraw_body, {"commission": "-0.01"}, "commission"),
    ("/l/withdraws", withdraw_body, {"cardNumber": "12ab"}, "cardNumber"),
    ("/l/consumers", consumer_body, {"role": "X"}, "role"),
    ("/l/consumers", consumer_body, {"fullname": ""}, "fullname"),
    ("/l/consumers", consumer_body, {"fullname": "x" * 65}, "fullname"),
    ("/l/consumers", consumer_body, {"fullname": "a\nb"}, "fullname"),
    ("/l/consumers", consumer_body, {"mobile": "call me"}, "mobile"),
    ("/l/consumers", consumer_body, {"idNumber": None}, "idNumber"),
]


@pytest.mark.parametrize("path, build, change, field", BAD_INPUTS)
def test_bad_input_is_refused_with_a_reason_and_nothing_stored(client, auth, db, path, build, change, field):
    body = build(**change)
    response = client.post(path, json=body, headers=auth)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["msg"]
    assert record_of(db, body.get("requestNo") if isinstance(body.get("requestNo"), str) else "") is None


@pytest.mark.parametrize("path, build, field", [("/l/consumers", consumer_body, "bankCode"),
                                                ("/l/recharges", recharge_body, "amount"),
                                                ("/l/withdraws", withdraw_body, "commission")])
def test_missing_field_is_refused(client, auth, path, build, field):
    body = build()
    del body[field]
    response = client.post(path, json=body, headers=auth)
    assert response.status_code == 400
    assert field in response.get_json()["msg"]


def test_non_json_body_is_refused(client, auth):
    response = client.post("/l/recharges", data="amount=1", headers={**auth, "Content-Type": "text/plain"})
    assert 400 <= response.status_code < 500


def test_record_endpoint(client, auth, make_request):
    body, _ = make_request("WITHDRAW")
    response = client.get(f"/l/records/{body['requestNo']}", headers=auth)
    assert response.status_code == 200
    record = response.get_json()["result"]
    assert record["requestNo"] == body["requestNo"]
    assert (record["requestType"], record["serviceName"], record["objectType"]) == ("WITHDRAW", "WITHDRAW",
                                                                                   "WITHDRAW_RECORD")
    assert (record["amount"], record["commission"], record["requestStatus"]) == ("50.00", "1.00", 0)
    assert without_times(record["requestData"]) == body and record["responseData"] is None
    assert client.get(f"/l/records/{new_request_no()}", headers=auth).status_code == 404
    assert client.get("/l/records/REQ_bad", headers=auth).status_code == 400


def test_depository_url_setting(infra, agent_db, auth):
    app = create_app(infra.config(SERVICE, DEPOSITORY_GATEWAY_URL="https://bank.example/depository/gateway"))
    try:
        result = app.test_client().post("/l/recharges", json=recharge_body(), headers=auth).get_json()["result"]
    finally:
        app.extensions["depository_agent"].close()
    assert result["depositoryUrl"] == "https://bank.example/depository/gateway"


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/l/consumers", "/l/recharges", "/l/withdraws", "/l/records/{request_no}", "/gateway"} <= set(paths)
    assert set(paths["/gateway"]) == {"get", "post"}
