"""POST /netsave: verified NetSave callbacks are stored once per OrdId for the crediting worker."""
import json
import threading

import pytest

from tests.bank_callback.huifu_messages import NETSAVE_ORDER, chk_value, netsave_fields, new_cust_id


def test_verified_netsave_is_stored_with_the_other_fields_as_json(client, huifu_private, stored):
    fields = netsave_fields(new_cust_id(), "1234.56", MerPriv="备注&x=1")
    fields["ChkValue"] = chk_value(huifu_private, fields, NETSAVE_ORDER)
    response = client.post("/netsave", data=fields)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    [(cust_id, ord_id, data, done)] = stored("bank_netsave")
    assert (cust_id, ord_id, done) == (fields["UsrCustId"], fields["OrdId"], False)
    assert json.loads(data) == {k: v for k, v in fields.items() if k not in ("UsrCustId", "OrdId")}


def test_duplicate_gets_the_same_reply_and_no_second_row(client, sign_netsave, db):
    body = sign_netsave(netsave_fields(new_cust_id()))
    first = client.post("/netsave", data=body)
    before = db.execute("select id, updated_at from bank_netsave").fetchall()
    second = client.post("/netsave", data={**body, "RespDesc": "retry"})  # unsigned field differs only
    assert second.status_code == 200
    assert second.get_data(as_text=True) == first.get_data(as_text=True)
    assert db.execute("select id, updated_at from bank_netsave").fetchall() == before


def test_same_ord_id_with_other_content_is_a_conflict(client, sign_netsave, stored):
    original = netsave_fields(new_cust_id())
    client.post("/netsave", data=sign_netsave(original))
    before = stored("bank_netsave")
    response = client.post("/netsave", data=sign_netsave({**original, "TransAmt": "999.00"}))
    assert response.status_code == 409
    assert "RECV" not in response.get_data(as_text=True)
    assert stored("bank_netsave") == before


@pytest.mark.parametrize("overrides", [
    pytest.param({"TransAmt": "0.00"}, id="zero"),
    pytest.param({"TransAmt": "-1.00"}, id="negative"),
    pytest.param({"TransAmt": "1.001"}, id="three-decimals"),
    pytest.param({"TransAmt": "1e3"}, id="exponent"),
    pytest.param({"TransAmt": "NaN"}, id="nan"),
    pytest.param({"TransAmt": "1000000.01"}, id="above-maximum"),
    pytest.param({"TransAmt": ""}, id="missing-amount"),
    pytest.param({"OrdId": "O" * 31}, id="ord-id-31"),
    pytest.param({"OrdId": ""}, id="ord-id-missing"),
    pytest.param({"UsrCustId": "123"}, id="cust-id-short"),
    pytest.param({"MerCustId": "6000060000000009"}, id="wrong-merchant"),
    pytest.param({"CmdId": "UserRegister"}, id="wrong-command"),
])
def test_invalid_but_signed_netsave_is_refused(client, sign_netsave, stored, overrides):
    response = client.post("/netsave", data=sign_netsave(netsave_fields(new_cust_id(), **overrides)))
    assert response.status_code == 400
    assert response.json["msg"]
    assert stored("bank_netsave") == []


def test_tampered_amount_is_refused(client, sign_netsave, stored):
    body = sign_netsave(netsave_fields(new_cust_id(), "1.00"))
    response = client.post("/netsave", data={**body, "TransAmt": "100000.00"})
    assert response.status_code == 400
    assert response.json["code"] == 910
    assert stored("bank_netsave") == []


def test_failed_netsave_is_stored_and_acknowledged(client, sign_netsave, stored):
    fields = netsave_fields(new_cust_id(), RespCode="351", RespDesc="余额不足")
    response = client.post("/netsave", data=sign_netsave(fields))
    assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    assert [row[1] for row in stored("bank_netsave")] == [fields["OrdId"]]


def test_concurrent_deliveries_of_one_netsave_store_one_row(default_app, sign_netsave, stored):
    body = sign_netsave(netsave_fields(new_cust_id()))
    answers = []

    def deliver():
        answers.append(default_app.test_client().post("/netsave", data=body).get_data(as_text=True))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == [f"RECV_ORD_ID_{body['TrxId']}"] * 8
    assert len(stored("bank_netsave")) == 1
