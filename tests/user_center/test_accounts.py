"""Registration, login, tokens and the profile."""
import re
import time

import pytest

from tests.user_center.conftest import new_mobile, open_form, request_no_of

from user_center.app import create_app
from user_center.tokens import issue_token

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
