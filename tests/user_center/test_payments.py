"""Recharge and withdraw requests, records, balances, and one user never touching another's data."""
import pytest

from tests.user_center.conftest import CALLBACK, request_no_of

BAD_AMOUNTS = ["0", "0.00", "-1", "-0.01", "1.001", "0.001", "NaN", "nan", "Infinity", "1e3", "1E2", "+5",
               "1,000.00", "", " ", "abc", "0x10", "1000000.01", "99999999999999999999", 100.5, 0.1, True, None,
               [], {"v": 1}]


def count(db, table: str, user_no: str) -> int:
    return db.execute(f"select count(*) as n from {table} where user_no = %s", (user_no,)).fetchone()["n"]


def test_recharge_before_the_account_is_opened_is_409(make_user, agent, db):
    user = make_user()
    calls = len(agent.calls)
    for answer in (user.post("/my/recharge-records", {"amount": "100.00", "callbackUrl": CALLBACK}),
                   user.get("/my/recharge-records", query_string={"amount": "100.00", "callbackUrl": CALLBACK})):
        assert answer.status_code == 409 and answer.json["code"] == 909
    assert count(db, "recharge_record", user.user_no) == 0 and len(agent.calls) == calls


def test_recharge_stores_a_pending_record_then_returns_the_gateway_request(opened_user, agent, db):
    user = opened_user()
    answer = user.post("/my/recharge-records", {"amount": "100.5", "callbackUrl": CALLBACK})
    assert answer.status_code == 200
    gateway = answer.json["result"]
    assert gateway["serviceName"] == "RECHARGE"
    request_no = request_no_of(gateway)
    assert agent.calls[-1] == ("/l/recharges", {"requestNo": request_no, "userNo": user.user_no,
                                                "amount": "100.50", "callbackUrl": CALLBACK})
    row = db.execute("select user_no, amount, callback_status from recharge_record where request_no = %s",
                     (request_no,)).fetchone()
    assert row == {"user_no": user.user_no, "amount": 10050, "callback_status": 0}


def test_recharge_get_form_works_like_the_post(opened_user, agent, db):
    user = opened_user()
    answer = user.get("/my/recharge-records", query_string={"amount": "7", "callbackUrl": CALLBACK})
    assert answer.status_code == 200 and answer.json["result"]["serviceName"] == "RECHARGE"
    assert agent.calls[-1][1]["amount"] == "7.00"
    assert db.execute("select amount from recharge_record where request_no = %s",
                      (request_no_of(answer.json["result"]),)).fetchone()["amount"] == 700


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_are_400_and_change_nothing(idle_user, agent, db, ledger, amount):
    user = idle_user
    calls = len(agent.calls)
    for path in ("/my/recharge-records", "/my/withdraw-records"):
        answer = user.post(path, {"amount": amount, "callbackUrl": CALLBACK})
        assert answer.status_code == 400, (path, amount, answer.json)
        assert answer.json["code"] == 903 and answer.json["msg"] and answer.json["result"] is None
    if isinstance(amount, str):  # the GET form carries the same text
        answer = user.get("/my/withdraw-records", query_string={"amount": str(amount), "callbackUrl": CALLBACK})
        assert answer.status_code == 400
    assert count(db, "recharge_record", user.user_no) == count(db, "withdraw_record", user.user_no) == 0
    assert len(agent.calls) == calls and ledger.trade_nos(user.user_no, 2) == []


@pytest.mark.parametrize("body", [{"amount": "10.00"}, {"callbackUrl": CALLBACK}, {},
                                  {"amount": "10.00", "callbackUrl": "not a url"},
                                  {"amount": "10.00", "callbackUrl": "file:///etc/passwd"}])
def test_missing_or_bad_fields_are_400(idle_user, agent, db, body):
    user = idle_user
    calls = len(agent.calls)
    for path in ("/my/recharge-records", "/my/withdraw-records"):
        assert user.post(path, body).status_code == 400
    assert user.get("/my/recharge-records", query_string=body).status_code == (200 if not body else 400)
    assert count(db, "recharge_record", user.user_no) == 0 and len(agent.calls) == calls


def test_amount_above_the_configured_maximum_is_400(opened_user, infra, ledger, agent):
    from user_center.bootstrap import create_app

    small = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                    MAX_AMOUNT="500.00")).test_client()
    user = opened_user()
    headers = user.headers
    over = small.post("/my/recharge-records", json={"amount": "500.01", "callbackUrl": CALLBACK}, headers=headers)
    assert over.status_code == 400 and "500.00" in over.json["msg"]
    at = small.post("/my/recharge-records", json={"amount": "500.00", "callbackUrl": CALLBACK}, headers=headers)
    assert at.status_code == 200


def test_withdraw_with_insufficient_balance_is_422_with_no_record_and_no_request(funded_user, agent, db, ledger):
    user = funded_user("100.00")
    calls = len(agent.calls)
    # 100.00 + 1.00 commission is more than the balance of 100.00
    answer = user.post("/my/withdraw-records", {"amount": "100.00", "callbackUrl": CALLBACK})
    assert answer.status_code == 422 and answer.json["code"] == 904
    answer = user.get("/my/withdraw-records", query_string={"amount": "150", "callbackUrl": CALLBACK})
    assert answer.status_code == 422
    assert count(db, "withdraw_record", user.user_no) == 0 and len(agent.calls) == calls
    assert ledger.balance(user.user_no) == 10000 and ledger.trade_nos(user.user_no, 2) == []


def test_withdraw_holds_amount_plus_commission_then_asks_the_agent(funded_user, agent, db, ledger):
    user = funded_user("100.00")
    answer = user.post("/my/withdraw-records", {"amount": "99.00", "callbackUrl": CALLBACK})
    assert answer.status_code == 200 and answer.json["result"]["serviceName"] == "WITHDRAW"
    request_no = request_no_of(answer.json["result"])
    assert agent.calls[-1] == ("/l/withdraws", {
        "requestNo": request_no, "userNo": user.user_no, "amount": "99.00", "commission": "1.00",
        "cardNumber": "6222020200112341234", "mobile": "13900139000", "callbackUrl": CALLBACK})
    assert ledger.balance(user.user_no) == 0
    assert ledger.trade_nos(user.user_no, 2) == [request_no]
    row = db.execute("select amount, commission, callback_status from withdraw_record where request_no = %s",
                     (request_no,)).fetchone()
    assert row == {"amount": 9900, "commission": 100, "callback_status": 0}
    assert user.get("/my/balances").json["result"] == {"userNo": user.user_no, "balance": "0.00", "currency": "CNY"}


@pytest.mark.parametrize("status", [500, 400, 409])
def test_agent_failure_on_withdraw_refunds_the_hold_and_fails_the_record(funded_user, agent, db, ledger, status):
    user = funded_user("100.00")
    agent.fail_with = status
    answer = user.post("/my/withdraw-records", {"amount": "10.00", "callbackUrl": CALLBACK})
    assert answer.status_code >= 400 and answer.json["code"] != 0
    assert ledger.balance(user.user_no) == 10000
    assert len(ledger.trade_nos(user.user_no, 3)) == 1
    rows = db.execute("select callback_status from withdraw_record where user_no = %s", (user.user_no,)).fetchall()
    assert rows == [{"callback_status": 2}]


def test_agent_failure_on_recharge_fails_the_record(opened_user, agent, db):
    user = opened_user()
    agent.fail_with = 502
    answer = user.post("/my/recharge-records", {"amount": "10.00", "callbackUrl": CALLBACK})
    assert answer.status_code == 503
    rows = db.execute("select callback_status from recharge_record where user_no = %s", (user.user_no,)).fetchall()
    assert rows == [{"callback_status": 2}]


def test_records_are_own_newest_first_and_paged(opened_user, settle):
    alice, bob = opened_user(), opened_user()
    made = []
    for cents in range(1, 13):
        gateway = alice.post("/my/recharge-records", {"amount": f"{cents}.00", "callbackUrl": CALLBACK}).json["result"]
        made.append(request_no_of(gateway))
    bob.post("/my/recharge-records", {"amount": "99.00", "callbackUrl": CALLBACK})
    settle("RECHARGE", made[0], True, "1.00")
    settle("RECHARGE", made[1], False)

    first = alice.get("/my/recharge-records").json["result"]
    assert first["total"] == 12 and len(first["records"]) == 10
    assert [r["requestNo"] for r in first["records"]] == made[::-1][:10]
    record = first["records"][0]
    assert set(record) == {"requestNo", "amount", "callbackStatus", "createDate"}
    assert record["amount"] == "12.00" and record["callbackStatus"] == 0
    second = alice.get("/my/recharge-records", query_string={"page": 2}).json["result"]
    assert [(r["requestNo"], r["callbackStatus"]) for r in second["records"]] == [(made[1], 2), (made[0], 1)]
    sized = alice.get("/my/recharge-records", query_string={"page": 3, "size": 5}).json["result"]
    assert [r["requestNo"] for r in sized["records"]] == made[1::-1]
    beyond = alice.get("/my/recharge-records", query_string={"page": 9}).json["result"]
    assert beyond == {"total": 12, "records": []}

    bobs = bob.get("/my/recharge-records").json["result"]
    assert bobs["total"] == 1 and bobs["records"][0]["requestNo"] not in made


@pytest.mark.parametrize("query", [{"page": 0}, {"size": 0}, {"size": 101}, {"page": "x"}, {"size": "-1"}])
def test_bad_paging_is_400(idle_user, query):
    user = idle_user
    for path in ("/my/recharge-records", "/my/withdraw-records"):
        assert user.get(path, query_string=query).status_code == 400


def test_withdraw_records_carry_the_commission(funded_user):
    user = funded_user("50.00")
    user.post("/my/withdraw-records", {"amount": "20.00", "callbackUrl": CALLBACK})
    page = user.get("/my/withdraw-records").json["result"]
    assert page["total"] == 1
    assert {k: page["records"][0][k] for k in ("amount", "commission", "callbackStatus")} == {
        "amount": "20.00", "commission": "1.00", "callbackStatus": 0}


def test_balance_is_zero_before_opening_and_follows_the_ledger(make_user, funded_user, db):
    fresh = make_user()
    assert fresh.get("/my/balances").json["result"] == {"userNo": fresh.user_no, "balance": "0.00", "currency": "CNY"}
    user = funded_user("123.45")
    assert user.get("/my/balances").json["result"]["balance"] == "123.45"
    # opened, but the ledger does not know the account (yet): its 404 means nothing there
    db.execute("update consumer set depository_status = 'OPENED' where user_no = %s", (fresh.user_no,))
    assert fresh.get("/my/balances").json["result"]["balance"] == "0.00"


def test_a_user_never_sees_or_moves_another_users_money(funded_user, ledger, db):
    alice, bob = funded_user("100.00"), funded_user("30.00")
    bob_withdraw = request_no_of(bob.post("/my/withdraw-records", {"amount": "10.00", "callbackUrl": CALLBACK})
                                 .json["result"])
    alice.post("/my/withdraw-records", {"amount": "50.00", "callbackUrl": CALLBACK})
    assert alice.get("/my/balances").json["result"] == {"userNo": alice.user_no, "balance": "49.00", "currency": "CNY"}
    assert bob.get("/my/balances").json["result"]["balance"] == "19.00"
    alice_records = alice.get("/my/withdraw-records").json["result"]["records"]
    assert bob_withdraw not in [r["requestNo"] for r in alice_records] and len(alice_records) == 1
    assert alice.get("/my/consumers").json["result"]["userNo"] == alice.user_no
    # query parameters naming another user are ignored: the token decides
    sneaky = alice.get("/my/withdraw-records", query_string={"userNo": bob.user_no, "user_no": bob.user_no})
    assert [r["requestNo"] for r in sneaky.json["result"]["records"]] == [r["requestNo"] for r in alice_records]
    assert ledger.balance(bob.user_no) == 1900


@pytest.mark.parametrize("path", ["/my/recharge-records", "/my/withdraw-records"])
def test_head_of_the_get_form_makes_no_request(opened_user, agent, db, path):
    """HEAD runs a GET's handler in Flask: on the GET forms that create a request it must be refused."""
    user = opened_user()
    calls = len(agent.calls)
    answer = user.client.head(path, headers=user.headers, query_string={"amount": "7.00", "callbackUrl": CALLBACK})
    assert answer.status_code == 405 and "HEAD" not in answer.headers["Allow"]
    assert len(agent.calls) == calls
    assert count(db, "recharge_record", user.user_no) == count(db, "withdraw_record", user.user_no) == 0
