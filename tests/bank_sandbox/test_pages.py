"""The bank's browser pages: signature checks, one page per service, the form, the redirect."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bank_sandbox.confirmation import callback_redirect
from tests.bank_sandbox.conftest import PASSWORD, fetch_one

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _stored(pool, request_no):
    return fetch_one(pool, "select * from bank_requests where request_no = %s", request_no)


def _form(page: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


def test_bad_signature_and_wrong_platform_are_refused_and_nothing_is_stored(client, pool, platform):
    payload = platform.recharge(platform.user_no(), "10.00")
    params = platform.gateway_params("RECHARGE", payload, key=rsa.generate_private_key(65537, 2048))
    answer = client.get("/gateway", query_string=params)
    assert answer.status_code == 400 and answer.json == {"code": 910, "msg": "signature does not verify"}
    page = client.get("/gateway", query_string=params, headers=HTML)
    assert page.status_code == 400 and page.mimetype == "text/html" and "signature does not verify" in page.text

    wrong_platform = {**platform.gateway_params("RECHARGE", payload), "platformNo": "OTHERP2P"}
    answer = client.get("/gateway", query_string=wrong_platform)
    assert answer.status_code == 400 and "platformNo" in answer.json["msg"]
    unknown_service = {**platform.gateway_params("RECHARGE", payload), "serviceName": "TRANSFER"}
    assert client.get("/gateway", query_string=unknown_service).status_code == 400
    missing = client.get("/gateway", query_string={"serviceName": "RECHARGE"}, headers=HTML)
    assert missing.status_code == 400 and "reqData" in missing.text
    assert _stored(pool, payload["requestNo"]) is None


def test_a_weak_platform_key_is_refused(client, platform):
    params = platform.gateway_params("RECHARGE", platform.recharge(platform.user_no(), "1.00"),
                                     key=rsa.generate_private_key(65537, 1024))
    answer = client.get("/gateway", query_string=params)
    assert answer.status_code == 400 and answer.json["msg"] == "signature does not verify"


@pytest.mark.parametrize("service, build, expect", [
    ("PERSONAL_REGISTER", lambda p, u: p.register(u), ["开通存管账户", "passwordConfirm", "中国工商银行", "***************3445"]),
    ("RECHARGE", lambda p, u: p.recharge(u, "88.80"), ["充值", "¥88.80", "no depository account"]),
    ("WITHDRAW", lambda p, u: p.withdraw(u, "66.60", "2.00"), ["提现", "¥66.60", "¥2.00"]),
])
def test_each_service_has_its_page(client, pool, platform, service, build, expect):
    payload = build(platform, platform.user_no())
    page = client.get("/gateway", query_string=platform.gateway_params(service, payload), headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    for text in expect:
        assert text in page.text, text
    assert "110101199003074512" not in page.text  # the id number is masked
    form = _form(page.text)
    row = _stored(pool, payload["requestNo"])
    assert row["status"] == 0 and row["service_name"] == service
    assert form == {"requestNo": payload["requestNo"], "token": row["form_token"]}
    again = client.get("/gateway", query_string=platform.gateway_params(service, payload), headers=HTML)
    assert again.status_code == 200 and _form(again.text)["token"] == row["form_token"]


def test_the_form_opens_the_account_and_redirects_to_the_callback(client, pool, platform):
    user_no = platform.user_no()
    payload = platform.register(user_no, callbackUrl="http://127.0.0.1:8001/#/open?step=2")
    page = client.get("/gateway", query_string=platform.gateway_params("PERSONAL_REGISTER", payload), headers=HTML)
    form = _form(page.text)
    mismatch = client.post("/gateway/confirm", data={**form, "password": PASSWORD, "passwordConfirm": "other1"})
    assert mismatch.status_code == 400 and "the two passwords differ" in mismatch.text
    assert fetch_one(pool, "select 1 from bank_users where user_no = %s", user_no) is None
    forged = client.post("/gateway/confirm", data={**form, "token": "forged", "password": PASSWORD,
                                                   "passwordConfirm": PASSWORD})
    assert forged.status_code == 403

    done = client.post("/gateway/confirm", data={**form, "password": PASSWORD, "passwordConfirm": PASSWORD,
                                                 "action": "confirm"})
    assert done.status_code == 302
    assert done.headers["Location"] == "http://127.0.0.1:8001/#/open?step=2&code=00000&msg=success"
    assert fetch_one(pool, "select 1 from bank_users where user_no = %s", user_no) is not None
    assert fetch_one(pool, "select count(*) from deliveries where reference = %s", payload["requestNo"])["count"] == 1
    reload = client.get("/gateway", query_string=platform.gateway_params("PERSONAL_REGISTER", payload), headers=HTML)
    assert reload.status_code == 200 and "Request already succeeded" in reload.text


def test_the_form_recharges_after_a_wrong_password(client, pool, platform, opened_user):
    payload = platform.recharge(opened_user, "20.00")
    page = client.get("/gateway", query_string=platform.gateway_params("RECHARGE", payload), headers=HTML)
    form = _form(page.text)
    wrong = client.post("/gateway/confirm", data={**form, "password": "nope-nope"})
    assert wrong.status_code == 401 and "wrong transaction password" in wrong.text
    assert _stored(pool, payload["requestNo"])["status"] == 0
    done = client.post("/gateway/confirm", data={**form, "password": PASSWORD})
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert location.netloc == "frontend.test" and location.path == "/recharge"
    assert parse_qs(location.query) == {"from": ["bank"], "code": ["00000"], "msg": ["success"]}
    assert client.get(f"/balance-details/{opened_user}").json["balance"] == "20.00"


def test_cancel_fails_the_request_and_redirects(client, pool, platform, opened_user):
    payload = platform.withdraw(opened_user, "1.00")
    page = client.get("/gateway", query_string=platform.gateway_params("WITHDRAW", payload), headers=HTML)
    done = client.post("/gateway/confirm", data={**_form(page.text), "action": "cancel"})
    assert done.status_code == 302 and "code=20003" in done.headers["Location"]
    assert _stored(pool, payload["requestNo"])["status"] == 2


def test_a_reused_request_number_with_other_content_is_refused(client, pool, platform, opened_user):
    payload = platform.recharge(opened_user, "20.00")
    assert client.get("/gateway", query_string=platform.gateway_params("RECHARGE", payload)).status_code == 200
    changed = {**payload, "amount": "2000.00"}
    answer = client.get("/gateway", query_string=platform.gateway_params("RECHARGE", changed))
    assert answer.status_code == 409
    assert _stored(pool, payload["requestNo"])["amount"] == 2000


@pytest.mark.parametrize("url, expected", [
    ("http://a.test/cb", "http://a.test/cb?code=00000&msg=ok"),
    ("http://a.test/cb?x=1&code=old#top", "http://a.test/cb?x=1&code=00000&msg=ok#top"),
    ("http://a.test/#/result", "http://a.test/#/result?code=00000&msg=ok"),
    ("http://a.test/app?v=2#/result?id=7", "http://a.test/app?v=2#/result?id=7&code=00000&msg=ok"),
])
def test_callback_redirect_keeps_query_and_route(url, expected):
    assert callback_redirect(url, "00000", "ok") == expected
