"""Trade numbers up to 128 characters (a repayment's is ``<requestNo>:<userNo>``, 73), on every way in and in the
database; eid and spkg_id stay within 64."""
import uuid

import psycopg
import pytest

from tests.beanpay_ledger.conftest import new_id


def _repayment_trade_no() -> str:
    return f"REQ_{uuid.uuid4().hex.upper()}:USR_{uuid.uuid4().hex.upper()}"


def test_a_repayment_trade_number_posts_everywhere(api, funded):
    trade_no = _repayment_trade_no()
    assert len(trade_no) == 73
    status, deducted = api.get("/account/balance/deduct", {"eid": funded, "trade_no": trade_no, "amount": 300})
    assert (status, deducted["trade_no"], deducted["balance"]) == (200, trade_no, 9_700)
    assert api.post("/account/balance/refund", {"eid": funded, "trade_no": trade_no, "amount": 100})[0] == 200
    assert api.post("/account/balance/deduct", {"eid": funded, "trade_no": trade_no, "amount": 300})[0] == 201
    other = _repayment_trade_no()
    status, answer = api.post("/account/balance/batch", {"operations": [
        {"op": "add", "eid": funded, "trade_no": other, "amount": 5},
        {"op": "deduct", "eid": funded, "trade_no": other, "amount": 5}]})
    assert [result["status"] for result in answer["results"]] == [200, 200]
    held = _repayment_trade_no()
    status, released = api.post("/account/balance/release", {"eid": funded, "trade_no": held, "amount": 50})
    assert (status, released["released"], released["trade_no"]) == (200, "void", held)
    assert api.post("/account/balance/deduct", {"eid": funded, "trade_no": held, "amount": 50})[1]["code"] == 911
    records = api.get("/account/record/query", {"eid": funded, "ps": 10})[1]["data"]
    assert {trade_no, other} <= {record["trade_no"] for record in records}


def test_a_repayment_trade_number_uses_a_package(api, account):
    spkg = new_id("pkg")
    assert api.post("/package/create", {"eid": account, "spkg_id": spkg, "name": "p", "total": 5,
                                        "expires": "20991231"})[0] == 200
    trade_no = _repayment_trade_no()
    body = {"eid": account, "spkg_id": spkg, "trade_no": trade_no, "num": 2}
    assert api.post("/package/capacity/deduct", body)[0] == 200
    assert api.post("/package/capacity/refund", body)[0] == 200
    assert api.get("/package/capacity/query", {"eid": account, "spkg_id": spkg})[1]["total_remain"] == 5


@pytest.mark.parametrize("length, status", [(128, 200), (129, 400)])
def test_trade_numbers_up_to_128_characters(api, funded, length, status):
    answer = api.post("/account/balance/add", {"eid": funded, "trade_no": "t" * length, "amount": 1})
    assert answer[0] == status
    if status == 400:
        assert answer[1]["msg"] == "invalid input: trade_no: must be 1-128 characters without spaces"
    batch = api.post("/account/balance/batch", {"operations": [{"op": "add", "eid": funded, "trade_no": "u" * length,
                                                                "amount": 1}]})[1]["results"][0]
    assert batch["status"] == status


def test_eid_and_spkg_id_stay_within_64(api, account):
    answer = api.post("/account/create", {"eid": "e" * 65, "name": "n"})
    assert answer == (400, {"code": 903, "msg": "invalid input: eid: must be 1-64 characters without spaces"})
    answer = api.post("/package/create", {"eid": account, "spkg_id": "p" * 65, "name": "n", "total": 1,
                                          "expires": "20991231"})
    assert answer == (400, {"code": 903, "msg": "invalid input: spkg_id: must be 1-64 characters without spaces"})


def test_the_database_holds_trade_numbers_to_128(db, funded):
    account_id = db.execute("select account_id from account where eid = %s", (funded,)).fetchone()[0]
    with pytest.raises(psycopg.errors.CheckViolation, match="account_record_trade_no_check"):
        db.execute("insert into account_record (account_id, trade_no, change_type, amount, balance)"
                   " values (%s, %s, 1, 1, 10001)", (account_id, "t" * 129))
    with pytest.raises(psycopg.errors.CheckViolation, match="deduct_release_trade_no_check"):
        db.execute("insert into deduct_release (eid, trade_no, amount) values (%s, %s, 1)", (funded, "t" * 129))


def test_the_openapi_document_states_each_length(ledger_app):
    document = ledger_app.test_client().get("/openapi.json").get_json()
    parameters = {parameter["name"]: parameter["schema"]
                  for parameter in document["paths"]["/account/balance/add"]["get"]["parameters"]}
    assert parameters["trade_no"]["pattern"].endswith("{1,128}$")
    assert parameters["eid"]["pattern"].endswith("{1,64}$")
    capacity = document["components"]["schemas"]["CapacityArgs"]["properties"]
    assert capacity["trade_no"]["pattern"].endswith("{1,128}$") and capacity["spkg_id"]["pattern"].endswith("{1,64}$")
