"""Confirming requests without a browser: accounts, recharges, withdrawals, refusals."""
from decimal import Decimal

from tests.bank_sandbox.conftest import PASSWORD, fetch_all, fetch_one


def _confirm(client, platform, service, payload, **extra):
    return client.post("/sandbox/confirm", json=platform.confirm_body(service, payload, **extra))


def _balances(pool, user_no):
    return fetch_one(pool, "select card_balance, bank_balance from bank_users where user_no = %s", user_no)


def _notification(pool, platform, request_no):
    rows = fetch_all(pool, "select target, path, params from deliveries where reference = %s", request_no)
    assert len(rows) == 1 and rows[0]["target"] == "depository-agent" and rows[0]["path"] == "/gateway"
    return platform.read_notification(rows[0]["params"]), rows[0]["params"]


def test_open_account_recharge_and_withdraw_move_the_balances(client, pool, platform):
    user_no = platform.user_no()
    register = platform.register(user_no)
    opened = _confirm(client, platform, "PERSONAL_REGISTER", register)
    assert opened.status_code == 200
    assert opened.json["status"] == 1 and opened.json["code"] == "00000"
    assert opened.json["redirectUrl"].startswith("http://127.0.0.1:8001/#/register-result?code=00000&msg=success")
    note, params = _notification(pool, platform, register["requestNo"])
    assert params["serviceName"] == "PERSONAL_REGISTER" and params["platformNo"] == "WANXINP2P"
    assert note == {"requestNo": register["requestNo"], "respCode": "00000", "respMsg": "success", "status": 1,
                    "bankCode": "ICBK", "bankName": "中国工商银行"}
    assert _balances(pool, user_no) == {"card_balance": 10_000_000, "bank_balance": 0}
    stored = fetch_one(pool, "select password_hash from bank_users where user_no = %s", user_no)["password_hash"]
    assert stored.startswith("scrypt$") and PASSWORD not in stored

    recharge = platform.recharge(user_no, "150.50")
    answer = _confirm(client, platform, "RECHARGE", recharge)
    assert answer.status_code == 200 and answer.json["status"] == 1
    assert _balances(pool, user_no) == {"card_balance": 10_000_000 - 15050, "bank_balance": 15050}
    note, _ = _notification(pool, platform, recharge["requestNo"])
    assert note["transactionStatus"] == "SUCCESS" and note["amount"] == "150.50" and note["status"] == 1

    platform_before = Decimal(client.get("/balance-details/WANXINP2P").json["balance"])
    withdraw = platform.withdraw(user_no, "100.00", commission="0.50")
    answer = _confirm(client, platform, "WITHDRAW", withdraw)
    assert answer.status_code == 200 and answer.json["status"] == 1
    assert _balances(pool, user_no) == {"card_balance": 10_000_000 - 15050 + 10000, "bank_balance": 15050 - 10050}
    assert client.get(f"/balance-details/{user_no}").json == {"userNo": user_no, "balance": "50.00", "frozen": "0.00"}
    # the commission is paid into the platform's own account, not lost
    platform_account = client.get("/balance-details/WANXINP2P").json
    assert Decimal(platform_account["balance"]) - platform_before == Decimal("0.50")
    assert platform_account["frozen"] == "0.00" and platform_account["userNo"] == "WANXINP2P"
    request_rows = fetch_all(pool, "select status from bank_requests where user_no = %s", user_no)
    assert [row["status"] for row in request_rows] == [1, 1, 1]


def test_recharge_beyond_the_card_fails_with_a_status_2_notification(client, pool, platform, settings, opened_user):
    recharge = platform.recharge(opened_user, "100000.01")
    answer = _confirm(client, platform, "RECHARGE", recharge)
    assert answer.status_code == 200
    assert answer.json["status"] == 2 and answer.json["code"] == "20001"
    assert _balances(pool, opened_user) == {"card_balance": settings["CARD_BALANCE_FEN"], "bank_balance": 0}
    note, _ = _notification(pool, platform, recharge["requestNo"])
    assert note["status"] == 2 and note["transactionStatus"] == "FAIL" and note["respCode"] == "20001"
    assert fetch_one(pool, "select count(*) from bank_transactions where request_no = %s",
                     recharge["requestNo"])["count"] == 0


def test_withdraw_beyond_the_bank_balance_fails(client, pool, platform, opened_user):
    assert _confirm(client, platform, "RECHARGE", platform.recharge(opened_user, "10.00")).json["status"] == 1
    withdraw = platform.withdraw(opened_user, "9.50", commission="0.51")  # 10.01 needed
    answer = _confirm(client, platform, "WITHDRAW", withdraw)
    assert answer.json["status"] == 2 and answer.json["code"] == "20002"
    assert _balances(pool, opened_user)["bank_balance"] == 1000
    note, _ = _notification(pool, platform, withdraw["requestNo"])
    assert note["status"] == 2 and note["transactionStatus"] == "FAIL" and note["amount"] == "9.50"


def test_wrong_password_is_401_and_changes_nothing(client, pool, platform, opened_user):
    recharge = platform.recharge(opened_user, "5.00")
    answer = _confirm(client, platform, "RECHARGE", recharge, password="not-the-one")
    assert answer.status_code == 401 and answer.json["code"] == 901
    assert _balances(pool, opened_user)["bank_balance"] == 0
    assert fetch_one(pool, "select status from bank_requests where request_no = %s", recharge["requestNo"])["status"] == 0
    assert fetch_all(pool, "select id from deliveries where reference = %s", recharge["requestNo"]) == []
    assert _confirm(client, platform, "RECHARGE", recharge).json["status"] == 1


def test_replaying_a_final_request_is_409(client, platform, opened_user):
    recharge = platform.recharge(opened_user, "5.00")
    assert _confirm(client, platform, "RECHARGE", recharge).status_code == 200
    again = _confirm(client, platform, "RECHARGE", recharge)
    assert again.status_code == 409 and again.json["code"] == 909


def test_outcome_fail_declines(client, pool, platform, opened_user):
    recharge = platform.recharge(opened_user, "5.00")
    answer = _confirm(client, platform, "RECHARGE", recharge, outcome="fail")
    assert answer.json["status"] == 2 and answer.json["code"] == "20003"
    assert _balances(pool, opened_user)["bank_balance"] == 0


def test_recharge_without_an_account_fails_and_register_twice_fails(client, platform, opened_user):
    stranger = _confirm(client, platform, "RECHARGE", platform.recharge(platform.user_no(), "5.00"))
    assert stranger.json["status"] == 2 and stranger.json["code"] == "20005"
    again = _confirm(client, platform, "PERSONAL_REGISTER", platform.register(opened_user))
    assert again.json["status"] == 2 and again.json["code"] == "20006"


def test_bad_input_is_refused_before_anything_is_stored(client, pool, platform, opened_user):
    for amount in ("0.00", "1.001", "-5", "1e3", "NaN", "1000000.01"):
        recharge = platform.recharge(opened_user, amount)
        answer = _confirm(client, platform, "RECHARGE", recharge)
        assert answer.status_code == 400, amount
        assert fetch_one(pool, "select 1 from bank_requests where request_no = %s", recharge["requestNo"]) is None
    short = _confirm(client, platform, "PERSONAL_REGISTER", platform.register(platform.user_no()), password="123")
    assert short.status_code == 400 and "password" in short.json["msg"]
    tampered = platform.confirm_body("RECHARGE", platform.recharge(opened_user, "5.00"))
    tampered["reqData"] = platform.confirm_body("RECHARGE", platform.recharge(opened_user, "500.00"))["reqData"]
    answer = client.post("/sandbox/confirm", json=tampered)
    assert answer.status_code == 400 and answer.json["msg"] == "signature does not verify"
    assert client.post("/sandbox/confirm", json={"platformNo": "WANXINP2P"}).status_code == 400
