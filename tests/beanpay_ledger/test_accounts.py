"""Wallet accounts and postings against the real PostgreSQL, through the in-process app."""
from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants


def test_create_is_idempotent_by_eid(api):
    eid = new_id()
    status, created = api.post("/account/create", {"eid": eid, "name": "Colin", "credit": 500, "type": "wallet"})
    assert status == 200
    assert (created["eid"], created["name"], created["balance"], created["credit"], created["status"]) == \
        (eid, "Colin", 0, 500, "normal")
    status, again = api.get("/account/create", {"eid": eid, "name": "other name"})
    assert (status, again) == (201, created)
    assert api.get("/account/query", {"eid": eid}) == (200, created)


def test_posting_replay_and_conflict(api, account, db):
    status, record = api.post("/account/balance/add", {"eid": account, "trade_no": "T1", "amount": 200})
    assert status == 200
    assert {k: record[k] for k in ("eid", "trade_no", "change_type", "amount", "balance")} == \
        {"eid": account, "trade_no": "T1", "change_type": 1, "amount": 200, "balance": 200}
    assert api.post("/account/balance/add", {"eid": account, "trade_no": "T1", "amount": 200}) == (201, record)
    status, error = api.post("/account/balance/add", {"eid": account, "trade_no": "T1", "amount": 300})
    assert (status, error["code"]) == (409, 909)
    assert api.get("/account/balance/query", {"eid": account})[1]["balance"] == 200
    assert db.execute("select count(*) from account_record r join account a using (account_id) where eid = %s",
                      (account,)).fetchone()[0] == 1


def test_same_trade_no_for_add_and_deduct_are_distinct_postings(api, funded):
    assert api.post("/account/balance/add", {"eid": funded, "trade_no": "X", "amount": 5})[0] == 200
    status, record = api.post("/account/balance/deduct", {"eid": funded, "trade_no": "X", "amount": 5})
    assert (status, record["amount"], record["change_type"], record["balance"]) == (200, -5, 2, 10_000)


def test_deduct_respects_balance_plus_credit(api):
    eid = new_id()
    api.post("/account/create", {"eid": eid, "name": "n", "credit": 100})
    api.post("/account/balance/add", {"eid": eid, "trade_no": "a", "amount": 50})
    status, error = api.post("/account/balance/deduct", {"eid": eid, "trade_no": "d", "amount": 151})
    assert (status, error["code"]) == (422, 904)
    status, record = api.post("/account/balance/deduct", {"eid": eid, "trade_no": "d", "amount": 150})
    assert (status, record["balance"]) == (200, -100)
    assert api.get("/account/balance/query", {"eid": eid})[1] == \
        {"account_id": record["account_id"], "eid": eid, "balance": -100, "credit": 100}


def test_refund_rules(api, funded):
    deduct = api.post("/account/balance/deduct", {"eid": funded, "trade_no": "D", "amount": 300})[1]
    assert deduct["balance"] == 9_700
    status, error = api.post("/account/balance/refund", {"eid": funded, "trade_no": "D", "amount": 301})
    assert (status, error["code"]) == (400, 903)
    status, error = api.post("/account/balance/refund", {"eid": funded, "trade_no": "nope", "amount": 1})
    assert (status, error["code"]) == (404, 908)
    status, refund = api.post("/account/balance/refund", {"eid": funded, "trade_no": "D", "amount": 100})
    assert (status, refund["change_type"], refund["amount"], refund["balance"]) == (200, 3, 100, 9_800)
    assert api.post("/account/balance/refund", {"eid": funded, "trade_no": "D", "amount": 100}) == (201, refund)
    status, error = api.post("/account/balance/refund", {"eid": funded, "trade_no": "D", "amount": 200})
    assert (status, error["code"]) == (409, 909)  # one refund per deduct


def test_unknown_account_is_404_everywhere(api):
    eid = new_id("ghost")
    for path, extra in (("/account/query", {}), ("/account/balance/query", {}), ("/account/lock", {}),
                        ("/account/record/query", {}), ("/account/balance/add", {"trade_no": "t", "amount": 1}),
                        ("/account/balance/deduct", {"trade_no": "t", "amount": 1}),
                        ("/account/balance/refund", {"trade_no": "t", "amount": 1})):
        status, error = api.post(path, {"eid": eid, **extra})
        assert (path, status, error["code"]) == (path, 404, 908)


def test_locked_account_refuses_postings_until_unlocked(api, funded, db):
    add = api.post("/account/balance/add", {"eid": funded, "trade_no": "before", "amount": 1})[1]
    assert api.post("/account/lock", {"eid": funded})[1]["status"] == "locked"
    for path in ("/account/balance/add", "/account/balance/deduct"):
        status, error = api.post(path, {"eid": funded, "trade_no": "L", "amount": 1})
        assert (status, error["code"]) == (423, 907)
    assert api.post("/account/balance/add", {"eid": funded, "trade_no": "before", "amount": 1}) == (201, add)
    assert api.get("/account/query", {"eid": funded})[1]["balance"] == 10_001
    assert api.get("/account/unlock", {"eid": funded})[1]["status"] == "normal"
    assert api.post("/account/balance/add", {"eid": funded, "trade_no": "L", "amount": 1})[0] == 200
    assert_invariants(db)


def test_get_and_form_bodies_are_accepted(api, ledger_app, infra, account):
    client = ledger_app.test_client()
    headers = {"Authorization": f"Bearer {infra.internal_token}"}
    response = client.post("/account/balance/add", data={"eid": account, "trade_no": "F", "amount": "7"},
                           headers=headers)
    assert (response.status_code, response.get_json()["amount"]) == (200, 7)
    response = client.get(f"/account/balance/add?eid={account}&trade_no=F&amount=7", headers=headers)
    assert response.status_code == 201


def test_record_query_pages_newest_first_with_filters(api, account):
    for n in range(1, 6):
        api.post("/account/balance/add", {"eid": account, "trade_no": f"A{n}", "amount": n})
    api.post("/account/balance/deduct", {"eid": account, "trade_no": "D1", "amount": 3})
    status, page = api.get("/account/record/query", {"eid": account, "pi": 1, "ps": 4})
    assert (status, page["count"]) == (200, 6)
    assert [r["trade_no"] for r in page["data"]] == ["D1", "A5", "A4", "A3"]
    page2 = api.get("/account/record/query", {"eid": account, "pi": 2, "ps": 4})[1]
    assert [r["trade_no"] for r in page2["data"]] == ["A2", "A1"]
    deducts = api.get("/account/record/query", {"eid": account, "change_type": 2})[1]
    assert (deducts["count"], deducts["data"][0]["amount"]) == (1, -3)
    assert api.get("/account/record/query", {"eid": account, "start": "20990101"})[1] == {"count": 0, "data": []}
    assert api.get("/account/record/query", {"eid": account, "start": "20000101", "end": "20991231"})[1]["count"] == 6
