"""Registration, login, tokens and the profile."""
import base64
import hashlib
import hmac
import json
import re
import statistics
import time

import pytest

from shared.errors import AppError
from tests.user_center.conftest import CALLBACK, new_mobile, open_form, request_no_of

from user_center import device_cookies
from user_center.bootstrap import create_app
from user_center.tokens import issue_token, verify_token

MY_ENDPOINTS = [("GET", "/my/consumers"), ("POST", "/my/consumers"), ("GET", "/my/recharge-records"),
                ("POST", "/my/recharge-records"), ("GET", "/my/withdraw-records"), ("POST", "/my/withdraw-records"),
                ("GET", "/my/balances")]


def test_register_then_log_in(client, db):
    mobile = new_mobile()
    answer = client.post("/consumers", json={"mobile": mobile, "password": "correct-horse", "username": "alice"})
    assert answer.status_code == 201
    assert answer.json["code"] == 0 and answer.json["msg"] == "success"
    user_no = answer.json["result"]["userNo"]
    assert re.fullmatch(r"USR_[0-9A-F]{32}", user_no)
    assert answer.json["result"] == {"userNo": user_no, "mobile": mobile, "username": "alice"}

    stored = db.execute("select password_hash from consumer where user_no = %s", (user_no,)).fetchone()
    assert stored["password_hash"].startswith("scrypt$") and "correct-horse" not in stored["password_hash"]

    token = client.post("/tokens", json={"mobile": mobile, "password": "correct-horse"})
    assert token.status_code == 200
    result = token.json["result"]
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3600
    profile = client.get("/my/consumers", headers={"Authorization": f"Bearer {result['access_token']}"})
    assert profile.json["result"] == {"userNo": user_no, "mobile": mobile, "username": "alice",
                                      "depositoryStatus": "NONE", "bankCard": None}


def test_duplicate_mobile_is_409_and_keeps_the_first_password(client):
    mobile = new_mobile()
    assert client.post("/consumers", json={"mobile": mobile, "password": "first-password"}).status_code == 201
    again = client.post("/consumers", json={"mobile": mobile, "password": "second-password"})
    assert again.status_code == 409 and again.json["code"] != 0 and again.json["result"] is None
    assert client.post("/tokens", json={"mobile": mobile, "password": "second-password"}).status_code == 401
    assert client.post("/tokens", json={"mobile": mobile, "password": "first-password"}).status_code == 200


def test_wrong_password_and_unknown_mobile_get_the_same_401(client, make_user):
    user = make_user()
    wrong = client.post("/tokens", json={"mobile": user.mobile, "password": "not-the-password"})
    unknown = client.post("/tokens", json={"mobile": new_mobile(), "password": "secret-pass-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["msg"] == unknown.json["msg"] and wrong.json["code"] == 901


@pytest.mark.parametrize("body", [
    {"password": "long-enough"},
    {"mobile": "1380013800", "password": "long-enough"},
    {"mobile": "23800138000", "password": "long-enough"},
    {"mobile": "1380013800a", "password": "long-enough"},
    {"mobile": 13800138000, "password": "long-enough"},
    {"mobile": "13800138000", "password": "short"},
    {"mobile": "13800138000", "password": "x" * 65},
    {"mobile": "13800138000", "password": "long-enough", "username": "u" * 33},
    {"mobile": "13800138000", "password": "long-enough", "username": ""},
    {"mobile": "13800138000\n", "password": "long-enough"},
    {"mobile": "13800138000", "password": "long-enough", "username": "nul\x00"},
    [], None,
])
def test_bad_registration_is_400_and_stores_nothing(client, db, body):
    before = db.execute("select count(*) as n from consumer").fetchone()["n"]
    answer = client.post("/consumers", json=body)
    assert answer.status_code == 400 and answer.json["code"] != 0 and answer.json["msg"]
    assert db.execute("select count(*) as n from consumer").fetchone()["n"] == before


def test_non_json_body_is_400(client):
    answer = client.post("/consumers", data="mobile=1", content_type="text/plain")
    assert answer.status_code == 400


@pytest.mark.parametrize("method,path", MY_ENDPOINTS)
def test_my_endpoints_require_a_token(client, method, path):
    answer = client.open(path, method=method, json={} if method == "POST" else None)
    assert answer.status_code == 401 and answer.json["code"] == 901 and answer.json["result"] is None


@pytest.mark.parametrize("method,path", MY_ENDPOINTS)
def test_tampered_tokens_are_refused(client, idle_user, method, path):
    user = idle_user
    payload, mac = user.token.split(".")
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    for bad in (f"{forged_payload}.{mac}", f"{payload}.{mac[:-1]}x", user.token + "x", "garbage", "é.é"):
        answer = client.open(path, method=method, json={} if method == "POST" else None,
                             headers={"Authorization": f"Bearer {bad}"})
        assert answer.status_code == 401, bad


def test_token_signed_with_another_secret_or_expired_is_refused(client, app, make_user):
    user = make_user()
    other = issue_token("another-secret", user.user_no, 3600)
    expired = issue_token(app.config["TOKEN_SECRET"], user.user_no, 60, now=time.time() - 120)
    for token in (other, expired):
        answer = client.get("/my/consumers", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
    assert "expired" in client.get("/my/consumers", headers={"Authorization": f"Bearer {expired}"}).json["msg"]
    fresh = issue_token(app.config["TOKEN_SECRET"], user.user_no, 60)
    assert client.get("/my/consumers", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_token_ttl_comes_from_the_setting(infra, ledger, agent, make_user):
    short = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                    TOKEN_TTL_SECONDS=1)).test_client()
    user = make_user()
    token = short.post("/tokens", json={"mobile": user.mobile, "password": "secret-pass-1"}).json["result"]
    assert token["expires_in"] == 1
    time.sleep(1.1)
    assert short.get("/my/consumers", headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 401


def test_app_refuses_to_start_without_a_token_secret(infra, tmp_path):
    with pytest.raises(RuntimeError, match="TOKEN_SECRET"):
        create_app(infra.config("user_center", KEYS_DIR=str(tmp_path), TOKEN_SECRET=""))


def test_open_account_passes_the_agents_gateway_request_through(make_user, agent, db):
    user = make_user()
    answer = user.post("/my/consumers", open_form())
    assert answer.status_code == 200 and answer.json["code"] == 0
    gateway = answer.json["result"]
    assert set(gateway) == {"serviceName", "platformNo", "reqData", "signature", "depositoryUrl"}
    assert gateway["serviceName"] == "PERSONAL_REGISTER"
    path, body = agent.calls[-1]
    assert path == "/l/consumers"
    assert body == {**{k: v for k, v in open_form().items()}, "requestNo": request_no_of(gateway),
                    "userNo": user.user_no}
    assert re.fullmatch(r"REQ_[0-9A-F]{32}", body["requestNo"])
    assert user.get("/my/consumers").json["result"]["depositoryStatus"] == "PENDING"
    row = db.execute("select user_no, callback_status from depository_register where request_no = %s",
                     (body["requestNo"],)).fetchone()
    assert row == {"user_no": user.user_no, "callback_status": 0}


def test_opened_account_shows_the_masked_card_and_refuses_a_second_opening(opened_user, agent):
    user = opened_user()
    profile = user.get("/my/consumers").json["result"]
    assert profile["depositoryStatus"] == "OPENED"
    assert profile["bankCard"] == {"bankCode": "ICBC", "bankName": "Industrial and Commercial Bank of China",
                                   "cardNumber": "6222" + "*" * 11 + "1234"}
    calls = len(agent.calls)
    again = user.post("/my/consumers", open_form())
    assert again.status_code == 409 and again.json["code"] == 909
    assert len(agent.calls) == calls


def test_failed_opening_may_be_retried_with_a_new_request(make_user, settle):
    user = make_user()
    first = request_no_of(user.post("/my/consumers", open_form()).json["result"])
    settle("PERSONAL_REGISTER", first, success=False)
    assert user.get("/my/consumers").json["result"]["depositoryStatus"] == "FAILED"
    second = request_no_of(user.post("/my/consumers", open_form()).json["result"])
    assert second != first
    assert user.get("/my/consumers").json["result"]["depositoryStatus"] == "PENDING"
    settle("PERSONAL_REGISTER", second)
    assert user.get("/my/consumers").json["result"]["depositoryStatus"] == "OPENED"


@pytest.mark.parametrize("change", [
    {"fullname": ""}, {"idNumber": "12345"}, {"bankCode": "IC BC"}, {"cardNumber": "6222-0202"},
    {"mobile": "139001390"}, {"role": "X"}, {"callbackUrl": "javascript:alert(1)"},
    {"callbackUrl": "ftp://example.com/x"}, {"callbackUrl": "http://" + "a" * 520 + ".com/"},
    {"callbackUrl": None}, {"fullname": None}, {"fullname": "Zhang\x00San"}, {"cardNumber": "6222020200112341234\n"},
    {"callbackUrl": "http://[::1/"}, {"callbackUrl": "http://a b/"},
])
def test_bad_opening_form_is_400_and_changes_nothing(idle_new_user, agent, db, change):
    user = idle_new_user
    calls = len(agent.calls)
    answer = user.post("/my/consumers", open_form(**change))
    assert answer.status_code == 400, answer.json
    assert len(agent.calls) == calls
    assert user.get("/my/consumers").json["result"]["depositoryStatus"] == "NONE"
    assert db.execute("select count(*) as n from depository_register where user_no = %s",
                      (user.user_no,)).fetchone()["n"] == 0


def test_agent_failure_on_opening_is_reported_and_the_attempt_marked_failed(make_user, agent, db):
    user = make_user()
    agent.fail_with = 500
    answer = user.post("/my/consumers", open_form())
    assert answer.status_code == 503 and "depository agent" in answer.json["msg"]
    assert user.get("/my/consumers").json["result"]["depositoryStatus"] == "FAILED"
    assert db.execute("select callback_status from depository_register where user_no = %s",
                      (user.user_no,)).fetchone()["callback_status"] == 2


@pytest.mark.parametrize("password", [
    " " * 8, "\t" * 8, "\u3000" * 8, " leading-space", "trailing-space ", "\u3000full-width-space",
    "new-line-at-end\n", "\u00a0no-break-space"])
def test_a_new_password_with_surrounding_whitespace_is_400_and_stores_nothing(client, db, password):
    mobile = new_mobile()
    answer = client.post("/consumers", json={"mobile": mobile, "password": password})
    assert answer.status_code == 400 and "password" in answer.json["msg"] and "whitespace" in answer.json["msg"]
    assert db.execute("select count(*) as n from consumer where mobile = %s", (mobile,)).fetchone()["n"] == 0


def test_passwords_are_taken_exactly_as_given(client):
    mobile = new_mobile()
    assert client.post("/consumers", json={"mobile": mobile, "password": "inner  spaces ok"}).status_code == 201
    assert client.post("/tokens", json={"mobile": mobile, "password": "inner  spaces ok"}).status_code == 200
    for variant in ("inner  spaces ok ", " inner  spaces ok", "inner spaces ok"):  # never trimmed nor squeezed
        assert client.post("/tokens", json={"mobile": mobile, "password": variant}).status_code == 401


def test_a_token_is_refused_from_its_expiry_second(client, app, make_user):
    user = make_user()
    secret = app.config["TOKEN_SECRET"]
    just_expired = issue_token(secret, user.user_no, 60, now=time.time() - 61)
    answer = client.get("/my/consumers", headers={"Authorization": f"Bearer {just_expired}"})
    assert answer.status_code == 401 and "expired" in answer.json["msg"]
    issued = 1_700_000_000
    token = issue_token(secret, user.user_no, 60, now=issued)
    assert verify_token(secret, token, now=issued + 59) == user.user_no
    with pytest.raises(AppError):
        verify_token(secret, token, now=issued + 60)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_tokens_in_other_shapes_are_refused(client, app, make_user):
    """No algorithm is read from the token: JWT headers (alg none, HS256 with our secret), re-encoded
    payloads and a device cookie all fail the one HMAC over the exact payload text."""
    user = make_user()
    secret = app.config["TOKEN_SECRET"]
    claims = b64url(json.dumps({"v": 1, "sub": user.user_no, "iat": int(time.time()), "exp": int(time.time()) + 600})
                    .encode())
    header_none = b64url(b'{"alg":"none","typ":"JWT"}')
    header_hs256 = b64url(b'{"alg":"HS256","typ":"JWT"}')
    hs256 = b64url(hmac.new(secret.encode(), f"{header_hs256}.{claims}".encode(), hashlib.sha256).digest())
    genuine = issue_token(secret, user.user_no, 600)
    payload, mac = genuine.split(".")
    forged = [f"{header_none}.{claims}.", f"{header_hs256}.{claims}.{hs256}", f"{claims}.", f"{payload}=.{mac}",
              f"{payload}.{mac}=", f"{payload}..{mac}", f"{payload}.{mac}.{mac}",
              device_cookies.issue(secret, user.user_no, 600)]
    for token in forged:
        assert client.get("/my/consumers", headers={"Authorization": f"Bearer {token}"}).status_code == 401, token
    assert client.get("/my/consumers", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200


def test_the_token_of_a_deleted_user_reaches_nothing(client, make_user, db):
    user = make_user()
    db.execute("delete from consumer where user_no = %s", (user.user_no,))
    for method, path in MY_ENDPOINTS:
        body = {"amount": "10.00", "callbackUrl": CALLBACK} if path.endswith("-records") else open_form()
        answer = user.client.open(path, method=method, headers=user.headers, json=body if method == "POST" else None)
        if method == "GET" and path.endswith("-records"):  # a list filtered by the token's userNo: nothing in it
            assert answer.status_code == 200 and answer.json["result"] == {"total": 0, "records": []}, path
        else:
            assert answer.status_code == 401, (method, path, answer.json)
    assert client.post("/tokens", json={"mobile": user.mobile, "password": "secret-pass-1"}).status_code == 401


def test_an_unknown_mobile_takes_as_long_as_a_wrong_password(infra, ledger, agent, make_user):
    """Both hash once (the unknown one against a dummy hash of the same cost), so timing tells nothing.
    Medians of alternating attempts, with a tolerance a loaded machine keeps."""
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  LOGIN_MAX_FAILURES_PER_MOBILE=100, LOGIN_MAX_FAILURES_PER_ADDRESS=100))
    user = make_user()
    client = app.test_client()
    timings = {"unknown": [], "wrong": []}
    for _ in range(7):
        for kind, mobile in (("unknown", new_mobile()), ("wrong", user.mobile)):
            started = time.perf_counter()
            assert client.post("/tokens", json={"mobile": mobile, "password": "not-the-password"}).status_code == 401
            timings[kind].append(time.perf_counter() - started)
    unknown, wrong = statistics.median(timings["unknown"]), statistics.median(timings["wrong"])
    assert 0.5 < unknown / wrong < 2, timings


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_cross_site_form_cannot_log_in_or_register(client, make_user, content_type):
    """What a form on another site can send without a CORS preflight is not JSON: refused before anything,
    so no site can log a visitor in (and plant its device cookie) or register through the visitor's browser."""
    user = make_user()
    body = json.dumps({"mobile": user.mobile, "password": "secret-pass-1"})
    for path in ("/tokens", "/consumers"):
        answer = client.post(path, data=body if content_type == "text/plain" else {"mobile": user.mobile,
                             "password": "secret-pass-1"}, content_type=content_type)
        assert answer.status_code == 400, (path, answer.json)
        assert not answer.headers.getlist("Set-Cookie")
