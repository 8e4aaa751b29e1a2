"""/gateway: verified notifications settle the record and write one outbox row; bad ones change nothing."""
import base64
import json
import os
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from depository_agent.bootstrap import create_app
from shared.signing import encode_wanxin, load_key, sign

from tests.depository_agent.conftest import (
    bank_result,
    consumer_body,
    new_request_no,
    outbox_of,
    record_of,
    sign_bank_message,
)


def assert_ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data() == b"OK"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("service_name", ["PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"])
def test_success_notification_settles_and_writes_one_outbox_row(make_request, notify, db, service_name):
    body, _ = make_request(service_name)
    result = bank_result(service_name, body["requestNo"], amount=body.get("amount", "100.00"))
    assert_ok(notify(service_name, result))
    record = record_of(db, body["requestNo"])
    assert record["request_status"] == 1
    assert record["response_data"] == result
    assert record["confirm_date"] is not None and record["result_source"] == "NOTIFICATION"
    [row] = outbox_of(db, body["requestNo"])
    assert (row["exchange"], row["routing_key"]) == ("depository.gateway-notify", service_name)
    assert row["message_id"] == f"{service_name}:{body['requestNo']}"
    assert json.loads(row["body"]) == {**result, "serviceName": service_name}
    assert row["headers"]["x-request-id"] and row["sent_at"] is None


def test_failure_notification_moves_the_record_to_failed(make_request, notify, db):
    body, _ = make_request("WITHDRAW")
    assert_ok(notify("WITHDRAW", bank_result("WITHDRAW", body["requestNo"], success=False, amount="50.00")))
    assert record_of(db, body["requestNo"])["request_status"] == 2
    [row] = outbox_of(db, body["requestNo"])
    assert json.loads(row["body"])["transactionStatus"] == "FAIL"


def test_post_with_query_parameters_and_with_a_form_body(make_request, client, infra, db):
    for as_form in (False, True):
        body, _ = make_request("RECHARGE")
        message = sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"]))
        response = client.post("/gateway", data=message) if as_form else client.post("/gateway", query_string=message)
        assert_ok(response)
        assert record_of(db, body["requestNo"])["request_status"] == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_trailing_slash_path_is_the_same_endpoint(make_request, client, infra, db, method):
    body, _ = make_request("RECHARGE")
    result = bank_result("RECHARGE", body["requestNo"])
    message = sign_bank_message(infra.keys_dir, "RECHARGE", result)
    assert_ok(client.open("/gateway/", method=method, query_string=message))
    assert record_of(db, body["requestNo"])["request_status"] == 1
    assert_ok(client.open("/gateway/", method=method, query_string=message))  # a duplicate, as on /gateway
    assert len(outbox_of(db, body["requestNo"])) == 1
    forged = sign_bank_message(infra.keys_dir, "RECHARGE", {**result, "amount": "1.00"}, key_file="huifu_private.pem")
    assert client.open("/gateway/", method=method, query_string=forged).status_code == 400


def test_head_is_refused_and_applies_nothing(make_request, client, infra, db):
    body, _ = make_request("RECHARGE")
    message = sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"]))
    for path in ("/gateway", "/gateway/"):
        response = client.head(path, query_string=message)
        assert response.status_code == 405 and "HEAD" not in response.headers["Allow"]
    assert record_of(db, body["requestNo"])["request_status"] == 0 and outbox_of(db, body["requestNo"]) == []


@pytest.mark.parametrize("where", ["query twice", "query and form"])
@pytest.mark.parametrize("name", ["serviceName", "reqData", "signature", "platformNo"])
def test_a_parameter_given_twice_with_different_values_is_refused(make_request, client, infra, db, where, name):
    body, _ = make_request("RECHARGE")
    genuine = sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"]))
    other = {**sign_bank_message(infra.keys_dir, "WITHDRAW", bank_result("RECHARGE", new_request_no())),
             "platformNo": "OTHERP2P"}
    if where == "query twice":
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in genuine.items())
        answer = client.post(f"/gateway?{query}&{name}={quote(other[name], safe='')}")
    else:
        answer = client.post("/gateway", query_string=genuine, data={name: other[name]})
    assert answer.status_code == 400 and "more than once" in answer.get_json()["msg"], answer.get_json()
    assert record_of(db, body["requestNo"])["request_status"] == 0
    assert outbox_of(db, body["requestNo"]) == []
    assert_ok(client.post("/gateway", query_string=genuine, data=genuine))  # the same values twice are one value


def test_request_id_header_travels_to_the_outbox(make_request, client, infra, db):
    body, _ = make_request("RECHARGE")
    message = sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"]))
    assert_ok(client.get("/gateway", query_string=message, headers={"X-Request-Id": "bank-req-42"}))
    assert outbox_of(db, body["requestNo"])[0]["headers"] == {"x-request-id": "bank-req-42"}


def test_duplicate_notifications_are_acknowledged_and_change_nothing(make_request, notify, db):
    body, _ = make_request("RECHARGE")
    result = bank_result("RECHARGE", body["requestNo"])
    assert_ok(notify("RECHARGE", result))
    settled = record_of(db, body["requestNo"])
    for method in ("GET", "POST", "GET", "POST", "GET"):
        assert_ok(notify("RECHARGE", result, method=method))
    assert record_of(db, body["requestNo"]) == settled
    assert len(outbox_of(db, body["requestNo"])) == 1


def test_conflicting_result_is_recorded_as_an_anomaly_and_never_applied(make_request, notify, db):
    body, _ = make_request("RECHARGE")
    assert_ok(notify("RECHARGE", bank_result("RECHARGE", body["requestNo"])))
    settled = record_of(db, body["requestNo"])
    for _ in range(2):
        assert_ok(notify("RECHARGE", bank_result("RECHARGE", body["requestNo"], success=False)))
    assert record_of(db, body["requestNo"]) == settled
    assert len(outbox_of(db, body["requestNo"])) == 1
    [anomaly] = db.execute("select * from depository_exception where request_no = %s",
                           (body["requestNo"],)).fetchall()
    assert anomaly["kind"] == "CONFLICTING_RESULT" and anomaly["resolved_at"] is None
    assert anomaly["attempts"] == 2 and anomaly["detail"]["result"]["status"] == 2


def _tampered(message):
    payload = json.loads(base64.b64decode(message["reqData"]))
    payload["amount"] = "999.00"
    return {**message, "reqData": base64.b64encode(json.dumps(payload).encode()).decode()}


def _json_with(payload: dict, addition: str) -> bytes:
    """The JSON of ``payload`` with raw text added before its closing brace."""
    return (json.dumps(payload)[:-1] + addition + "}").encode()


def _recoded(message: dict, change) -> dict:
    """reqData and signature re-encoded by ``change`` (the same bytes in another Base64 spelling)."""
    return {"reqData": change(message["reqData"]), "signature": change(message["signature"])}


def _signed_raw(keys_dir, raw: bytes):
    signature = sign(load_key(os.path.join(keys_dir, "bank_private.pem")), raw)
    return {"reqData": base64.b64encode(raw).decode(), "signature": base64.b64encode(signature).decode()}


BAD_NOTIFICATIONS = {
    # huifu_private.pem: a valid 2048-bit key that is not the bank's
    "forged signature": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", p, key_file="huifu_private.pem")),
    "tampered reqData": (400, lambda k, m, p: _tampered(m)),
    "wrong platformNo": (400, lambda k, m, p: {**m, "platformNo": "OTHERP2P"}),
    "unknown requestNo": (404, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "requestNo": new_request_no()})),
    "mismatched amount": (409, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": "100.01"})),
    "serviceName of another type": (409, lambda k, m, p: sign_bank_message(k, "WITHDRAW", p)),
    "unknown serviceName": (400, lambda k, m, p: {**m, "serviceName": "TRANSFER"}),
    "malformed Base64": (400, lambda k, m, p: {**m, "reqData": "not*base64!"}),
    "malformed signature Base64": (400, lambda k, m, p: {**m, "signature": "%%%"}),
    "signed bytes that are not JSON": (400, lambda k, m, p: {**m, **_signed_raw(k, b"{not json")}),
    "signed JSON that is not an object": (400, lambda k, m, p: {**m, **_signed_raw(k, b"[1, 2]")}),
    "missing signature": (400, lambda k, m, p: {key: v for key, v in m.items() if key != "signature"}),
    "missing reqData": (400, lambda k, m, p: {key: v for key, v in m.items() if key != "reqData"}),
    "missing amount": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {x: v for x, v in p.items() if x != "amount"})),
    "status 0": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "status": 0})),
    "status contradicting respCode": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "status": 2})),
    "float amount": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": 100.0})),
    "integer amount": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": 100})),
    "amount without decimals": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": "100"})),
    "amount with one decimal": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": "100.0"})),
    "amount with a leading zero": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": "0100.00"})),
    "amount with a space": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "amount": " 100.00"})),
    "a register's fields in a recharge": (400, lambda k, m, p: sign_bank_message(
        k, "RECHARGE", {**p, "bankCode": "ICBC", "bankName": "x"})),
    "a field of no result": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "userNo": "USR_" + "0" * 32})),
    "duplicate names in the JSON": (400, lambda k, m, p: {**m, **_signed_raw(k, _json_with(p, ', "amount": "999.00"'))}),
    "data after the JSON": (400, lambda k, m, p: {**m, **_signed_raw(k, json.dumps(p).encode() + b'{"amount": 1}')}),
    "NaN in the JSON": (400, lambda k, m, p: {**m, **_signed_raw(k, _json_with(p, ', "extra": NaN'))}),
    "nesting deep enough to exhaust a recursive reader": (400, lambda k, m, p: {**m, **_signed_raw(
        k, _json_with(p, ', "extra": ' + "[" * 100_000 + "]" * 100_000))}),
    "a number of 5,000 digits": (400, lambda k, m, p: {**m, **_signed_raw(k, _json_with(p, ', "extra": ' + "9" * 5000))}),
    "a number read as infinity": (400, lambda k, m, p: {**m, **_signed_raw(k, _json_with(p, ', "extra": 1e999'))}),
    "NUL in a text": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p, "respMsg": "ok\u0000"})),
    "lone surrogate in a text": (400, lambda k, m, p: {**m, **_signed_raw(k, _json_with(p, ', "respMsg": "\\ud800"'))}),
    "requestNo in lower case": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", {**p,
                                                                                      "requestNo": p["requestNo"].lower()})),
    "URL-safe Base64": (400, lambda k, m, p: {**m, **_recoded(m, lambda t: t.replace("+", "-").replace("/", "_"))}),
    "Base64 without padding": (400, lambda k, m, p: {**m, **_recoded(m, lambda t: t.rstrip("="))}),
    "Base64 with extra padding": (400, lambda k, m, p: {**m, **_recoded(m, lambda t: t + "==")}),
    "Base64 with a newline": (400, lambda k, m, p: {**m, **_recoded(m, lambda t: t[:40] + "\n" + t[40:])}),
    "SHA-1 signature while SHA-256 is configured": (400, lambda k, m, p: sign_bank_message(k, "RECHARGE", p, "SHA1")),
}


@pytest.mark.parametrize("case", list(BAD_NOTIFICATIONS))
def test_bad_notification_is_refused_and_changes_nothing(make_request, client, infra, db, case):
    status, forge = BAD_NOTIFICATIONS[case]
    body, _ = make_request("RECHARGE")
    payload = bank_result("RECHARGE", body["requestNo"])
    message = forge(infra.keys_dir, sign_bank_message(infra.keys_dir, "RECHARGE", payload), payload)
    before = record_of(db, body["requestNo"])
    outbox_count = db.execute("select count(*) as n from outbox").fetchone()["n"]
    response = client.get("/gateway", query_string=message)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()
    assert error["code"] != 0 and error["msg"]
    assert record_of(db, body["requestNo"]) == before
    assert db.execute("select count(*) as n from outbox").fetchone()["n"] == outbox_count
    # the genuine notification is still accepted afterwards
    assert_ok(client.get("/gateway", query_string=sign_bank_message(infra.keys_dir, "RECHARGE", payload)))


def test_weak_bank_key_is_refused(make_request, client, db, tmp_path):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    body, _ = make_request("RECHARGE")
    payload = json.dumps(bank_result("RECHARGE", body["requestNo"])).encode()
    signature = weak.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    response = client.get("/gateway", query_string={
        "serviceName": "RECHARGE", "platformNo": "WANXINP2P", "reqData": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(signature).decode()})
    assert response.status_code == 400
    assert record_of(db, body["requestNo"])["request_status"] == 0


def test_gateway_request_verifies_with_the_cryptography_package(make_request, infra):
    body, gateway = make_request("WITHDRAW")
    with open(os.path.join(infra.keys_dir, "platform_public.pem"), "rb") as handle:
        public_key = serialization.load_pem_public_key(handle.read())
    signed_bytes = base64.b64decode(gateway["reqData"])
    public_key.verify(base64.b64decode(gateway["signature"]), signed_bytes, padding.PKCS1v15(), hashes.SHA256())
    assert json.loads(signed_bytes.decode("utf-8"))["requestNo"] == body["requestNo"]


def _independent_notification(keys_dir: str, payload: dict, hash_algorithm) -> dict:
    """A notification built only from the SPEC's wire format and the bank's private key."""
    with open(os.path.join(keys_dir, "bank_private.pem"), "rb") as handle:
        bank_key = serialization.load_pem_private_key(handle.read(), password=None)
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return {"serviceName": "PERSONAL_REGISTER", "platformNo": "WANXINP2P",
            "reqData": base64.b64encode(raw).decode("ascii"),
            "signature": base64.b64encode(bank_key.sign(raw, padding.PKCS1v15(), hash_algorithm)).decode("ascii")}


def test_notification_built_with_the_cryptography_package_is_accepted(make_request, client, infra, db):
    body, _ = make_request("PERSONAL_REGISTER")
    payload = bank_result("PERSONAL_REGISTER", body["requestNo"])
    assert_ok(client.post("/gateway", data=_independent_notification(infra.keys_dir, payload, hashes.SHA256())))
    assert record_of(db, body["requestNo"])["response_data"]["bankName"] == "工商银行"


@pytest.fixture
def sha1_client(infra, agent_db):
    app = create_app(infra.config("depository_agent", SIGN_HASH="SHA1withRSA"))
    yield app.test_client()
    app.extensions["depository_agent"].close()


def test_sha1_configuration_signs_and_verifies_with_sha1(sha1_client, auth, infra, db):
    body = consumer_body()
    gateway = sha1_client.post("/l/consumers", json=body, headers=auth).get_json()["result"]
    with open(os.path.join(infra.keys_dir, "platform_public.pem"), "rb") as handle:
        public_key = serialization.load_pem_public_key(handle.read())
    public_key.verify(base64.b64decode(gateway["signature"]), base64.b64decode(gateway["reqData"]),
                      padding.PKCS1v15(), hashes.SHA1())
    payload = bank_result("PERSONAL_REGISTER", body["requestNo"])
    sha256_message = _independent_notification(infra.keys_dir, payload, hashes.SHA256())
    assert sha1_client.get("/gateway", query_string=sha256_message).status_code == 400
    assert record_of(db, body["requestNo"])["request_status"] == 0
    assert_ok(sha1_client.get("/gateway", query_string=_independent_notification(infra.keys_dir, payload, hashes.SHA1())))
    assert record_of(db, body["requestNo"])["request_status"] == 1


def test_encode_and_independent_signatures_agree(infra):
    """Our signing is byte-for-byte RSASSA-PKCS1-v1_5, so an independent signer produces the same signature."""
    payload = {"requestNo": new_request_no(), "amount": "1.00"}
    req_data, signature = encode_wanxin(payload, load_key(os.path.join(infra.keys_dir, "bank_private.pem")))
    with open(os.path.join(infra.keys_dir, "bank_private.pem"), "rb") as handle:
        bank_key = serialization.load_pem_private_key(handle.read(), password=None)
    expected = bank_key.sign(base64.b64decode(req_data), padding.PKCS1v15(), hashes.SHA256())
    assert base64.b64decode(signature) == expected
