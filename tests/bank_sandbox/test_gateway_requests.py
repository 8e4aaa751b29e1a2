"""The bank binds a request's service to what was signed: the signed JSON's exact field set is its
service's, whatever serviceName the URL or body claims, a requestNo once seen keeps its service, and
every signed field has one exact format. Refusals change nothing."""
import pytest

from tests.bank_sandbox.conftest import fetch_all, fetch_one

HTML = {"Accept": "text/html"}


def _nothing_stored(pool, request_no: str) -> bool:
    return (fetch_one(pool, "select 1 from bank_requests where request_no = %s", request_no) is None
            and fetch_all(pool, "select id from deliveries where reference = %s", request_no) == [])


def _balances(pool, user_no):
    return fetch_one(pool, "select card_balance, bank_balance from bank_users where user_no = %s", user_no)


@pytest.fixture
def funded_user(client, platform, opened_user):
    answer = client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", platform.recharge(opened_user,
                                                                                                     "100.00")))
    assert answer.json["status"] == 1
    return opened_user


def test_a_signed_withdraw_opened_as_a_recharge_is_refused_and_can_still_be_confirmed(client, pool, platform,
                                                                                     funded_user):
    withdraw = platform.withdraw(funded_user, "40.00", "0.50")
    as_recharge = platform.gateway_params("WITHDRAW", withdraw) | {"serviceName": "RECHARGE"}
    for headers in ({}, HTML):
        page = client.get("/gateway", query_string=as_recharge, headers=headers)
        assert page.status_code == 400, page.text
        assert "WITHDRAW" in page.text and "充值" not in page.text
    confirm = client.post("/sandbox/confirm", json=platform.confirm_body("WITHDRAW", withdraw, serviceName="RECHARGE"))
    assert confirm.status_code == 400 and "does not match" in confirm.json["msg"]
    assert _nothing_stored(pool, withdraw["requestNo"])
    assert _balances(pool, funded_user)["bank_balance"] == 10000

    # the genuine withdraw is untouched: it opens as a withdraw and pays out once
    page = client.get("/gateway", query_string=platform.gateway_params("WITHDRAW", withdraw), headers=HTML)
    assert page.status_code == 200 and "提现" in page.text
    assert client.post("/sandbox/confirm", json=platform.confirm_body("WITHDRAW", withdraw)).json["status"] == 1
    assert _balances(pool, funded_user)["bank_balance"] == 10000 - 4050


@pytest.mark.parametrize("claimed, build", [
    ("RECHARGE", lambda p, u: p.register(u)),
    ("WITHDRAW", lambda p, u: p.recharge(u, "1.00")),
    ("PERSONAL_REGISTER", lambda p, u: p.withdraw(u, "1.00")),
])
def test_every_claimed_service_must_be_the_signed_one(client, pool, platform, funded_user, claimed, build):
    payload = build(platform, funded_user)
    params = platform.gateway_params(claimed, payload)
    assert client.get("/gateway", query_string=params).status_code == 400
    body = platform.confirm_body(claimed, payload, serviceName=claimed)
    assert client.post("/sandbox/confirm", json=body).status_code == 400
    assert _nothing_stored(pool, payload["requestNo"])


@pytest.mark.parametrize("change", [
    {"commission": "1.00"},                                      # a withdraw's field in a recharge
    {"idNumber": "110101199003074512"},                          # a register's field
    {"note": "x"},                                               # a field of no service
    {"callbackUrl": None},                                       # one missing
])
def test_a_field_set_of_no_service_is_refused_with_or_without_a_service_name(client, pool, platform, funded_user,
                                                                             change):
    payload = {name: value for name, value in {**platform.recharge(funded_user, "1.00"), **change}.items()
               if value is not None}
    for service_name in (None, "RECHARGE", "WITHDRAW"):
        extra = {"serviceName": service_name} if service_name else {}
        answer = client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", payload, **extra))
        assert answer.status_code == 400, (service_name, answer.json)
    assert client.get("/gateway", query_string=platform.gateway_params("RECHARGE", payload)).status_code == 400
    assert _nothing_stored(pool, payload["requestNo"])


def test_a_request_number_keeps_its_service(client, pool, platform, funded_user):
    recharge = platform.recharge(funded_user, "1.00")
    assert client.get("/gateway", query_string=platform.gateway_params("RECHARGE", recharge)).status_code == 200
    withdraw = platform.withdraw(funded_user, "1.00", requestNo=recharge["requestNo"])
    answer = client.post("/sandbox/confirm", json=platform.confirm_body("WITHDRAW", withdraw))
    assert answer.status_code == 409
    row = fetch_one(pool, "select service_name, status from bank_requests where request_no = %s", recharge["requestNo"])
    assert (row["service_name"], row["status"]) == ("RECHARGE", 0)
    assert _balances(pool, funded_user)["bank_balance"] == 10000


@pytest.mark.parametrize("amount", ["40", "40.0", "040.00", " 40.00", "40.00 ", "40.000", "+40.00", "4e1", "４０.００",
                                    40, 40.0, "0.00", True, None])
def test_an_amount_in_any_other_format_than_the_platforms_is_refused(client, pool, platform, funded_user, amount):
    for service, payload in (("RECHARGE", platform.recharge(funded_user, amount)),
                             ("WITHDRAW", platform.withdraw(funded_user, amount)),
                             ("WITHDRAW", platform.withdraw(funded_user, "1.00", commission=amount))):
        if amount == "0.00" and payload.get("commission") == amount:
            continue  # a zero commission is the one zero allowed
        answer = client.post("/sandbox/confirm", json=platform.confirm_body(service, payload))
        assert answer.status_code == 400, (service, amount, answer.json)
        assert _nothing_stored(pool, payload["requestNo"])
    assert _balances(pool, funded_user)["bank_balance"] == 10000


@pytest.mark.parametrize("change", [
    {"requestNo": "REQ_" + "a" * 32}, {"requestNo": "R1"}, {"userNo": "USR_X"}, {"mobile": "13800138000\n"},
    {"cardNumber": 6222020200112233445}, {"callbackUrl": "javascript:alert(1)"}, {"callbackUrl": "http://a b/"},
])
def test_every_signed_field_has_one_format(client, pool, platform, funded_user, change):
    payload = platform.withdraw(funded_user, "1.00", **change)
    answer = client.post("/sandbox/confirm", json=platform.confirm_body("WITHDRAW", payload))
    assert answer.status_code == 400, answer.json
    assert _balances(pool, funded_user)["bank_balance"] == 10000
