"""The bank's transaction password: guesses are limited per depository user (not per address), weak
passwords are refused when set, and no page of the bank can be framed by another site."""
import re

import pytest

from tests.bank_sandbox.conftest import PASSWORD, fetch_one

HTML = {"Accept": "text/html"}


def _confirm(client, platform, service, payload, password, address="203.0.113.7"):
    return client.post("/sandbox/confirm", json=platform.confirm_body(service, payload, password=password),
                       environ_base={"REMOTE_ADDR": address}, headers={"X-Forwarded-For": address})


def _bank_balance(pool, user_no) -> int:
    return fetch_one(pool, "select bank_balance from bank_users where user_no = %s", user_no)["bank_balance"]


def test_five_wrong_passwords_lock_the_user_whatever_the_address(client, pool, platform, settings, opened_user):
    assert settings["SANDBOX_PASSWORD_MAX_FAILURES"] == 5
    recharge = platform.recharge(opened_user, "10.00")
    for attempt in range(4):
        answer = _confirm(client, platform, "RECHARGE", recharge, f"guess-{attempt}", address=f"198.51.100.{attempt}")
        assert answer.status_code == 401, answer.json
        assert f"{4 - attempt} tries left" in answer.json["msg"]
    fifth = _confirm(client, platform, "RECHARGE", recharge, "guess-4", address="192.0.2.99")
    assert fifth.status_code == 423 and "locked until" in fifth.json["msg"]
    assert 890 <= int(fifth.headers["Retry-After"]) <= 900

    # seven more guesses, then the right password, from yet other addresses: all refused unread
    for attempt in range(7):
        assert _confirm(client, platform, "RECHARGE", recharge, f"more-{attempt}", f"10.0.0.{attempt}").status_code == 423
    right = _confirm(client, platform, "RECHARGE", recharge, PASSWORD, address="10.9.9.9")
    assert right.status_code == 423
    assert fetch_one(pool, "select status from bank_requests where request_no = %s", recharge["requestNo"])["status"] == 0
    assert _bank_balance(pool, opened_user) == 0

    # the form is locked the same way
    page = client.get("/gateway", query_string=platform.gateway_params("RECHARGE", recharge), headers=HTML)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    locked_page = client.post("/gateway/confirm", data={**form, "password": PASSWORD})
    assert locked_page.status_code == 423 and "locked until" in locked_page.text

    # once the lock has run out, the right password works and the count starts again
    with pool.connection() as conn:
        conn.execute("update bank_users set locked_until = now() - interval '1 second' where user_no = %s",
                     (opened_user,))
    assert _confirm(client, platform, "RECHARGE", recharge, PASSWORD).json["status"] == 1
    assert _bank_balance(pool, opened_user) == 1000
    user = fetch_one(pool, "select failed_passwords from bank_users where user_no = %s", opened_user)
    assert user["failed_passwords"] == 0


def test_a_right_password_resets_the_count_and_other_users_are_not_locked(client, pool, platform, opened_user):
    other = platform.user_no()
    assert client.post("/sandbox/confirm", json=platform.confirm_body("PERSONAL_REGISTER",
                                                                      platform.register(other))).json["status"] == 1
    for _ in range(4):
        assert _confirm(client, platform, "RECHARGE", platform.recharge(opened_user, "1.00"), "wrong-one").status_code == 401
    assert _confirm(client, platform, "RECHARGE", platform.recharge(opened_user, "1.00"), PASSWORD).json["status"] == 1
    for _ in range(4):
        assert _confirm(client, platform, "RECHARGE", platform.recharge(opened_user, "1.00"), "wrong-two").status_code == 401
    for _ in range(5):  # the same address guessing at another user locks only that one
        _confirm(client, platform, "RECHARGE", platform.recharge(other, "1.00"), "wrong-three")
    assert _confirm(client, platform, "RECHARGE", platform.recharge(other, "1.00"), PASSWORD).status_code == 423
    assert _confirm(client, platform, "RECHARGE", platform.recharge(opened_user, "1.00"), PASSWORD).json["status"] == 1


@pytest.mark.parametrize("password", ["111111", "123456", "654321", "abcdef", "aaaaaaaa", "121212", "123123",
                                      "890123", "112233", "qwerty", "074512", "138001"])
def test_weak_transaction_passwords_are_refused_when_set(client, pool, platform, password):
    register = platform.register(platform.user_no())  # idNumber ...074512, mobile 13800138000
    answer = _confirm(client, platform, "PERSONAL_REGISTER", register, password)
    assert answer.status_code == 400 and "too easy to guess" in answer.json["msg"], answer.json
    assert fetch_one(pool, "select 1 from bank_users where user_no = %s", register["userNo"]) is None
    page = client.get("/gateway", query_string=platform.gateway_params("PERSONAL_REGISTER", register), headers=HTML)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    refused = client.post("/gateway/confirm", data={**form, "password": password, "passwordConfirm": password})
    assert refused.status_code == 400 and "too easy to guess" in refused.text
    assert fetch_one(pool, "select 1 from bank_users where user_no = %s", register["userNo"]) is None


def test_no_page_of_the_bank_can_be_framed(client, platform, opened_user):
    answers = [
        client.get("/gateway", query_string=platform.gateway_params("RECHARGE", platform.recharge(opened_user, "1.00")),
                   headers=HTML),
        client.get("/gateway", query_string={"serviceName": "RECHARGE"}, headers=HTML),
        client.post("/sandbox/confirm", json={}),
        client.get("/service/query", query_string={"platformNo": "WANXINP2P", "requestNo": "REQ_" + "0" * 32}),
        client.get("/healthz"),
    ]
    for answer in answers:
        assert answer.headers["X-Frame-Options"] == "DENY", answer.request.path
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], answer.request.path
    page = answers[0]
    assert page.mimetype == "text/html" and "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
