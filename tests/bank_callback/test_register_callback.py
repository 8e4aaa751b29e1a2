"""POST /register: verified UserRegister callbacks bind openid to cust_id once, then are acknowledged."""
import pytest

from tests.bank_callback.huifu_messages import REGISTER_ORDER, chk_value, register_fields


def test_verified_register_is_stored_cached_and_acknowledged(client, sign_register, stored, redis_client, cache_key):
    fields = register_fields()
    response = client.post("/register", data=sign_register(fields))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    assert stored("bank_customers") == [(fields["UsrId"], fields["UsrCustId"], False)]
    assert redis_client.hget(cache_key, fields["UsrId"]) == fields["UsrCustId"]


def test_query_parameters_are_accepted_too(client, sign_register, stored):
    fields = sign_register(register_fields())
    response = client.post("/register", query_string=fields)
    assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    assert len(stored("bank_customers")) == 1


def test_duplicate_gets_the_same_reply_and_changes_nothing(client, sign_register, db):
    body = sign_register(register_fields())
    first = client.post("/register", data=body)
    before = db.execute("select id, updated_at from bank_customers").fetchall()
    second = client.post("/register", data=body)
    assert second.status_code == 200
    assert second.get_data(as_text=True) == first.get_data(as_text=True)
    assert db.execute("select id, updated_at from bank_customers").fetchall() == before


def test_independent_vector_with_an_openid_of_25_characters(client, huifu_private, stored):
    openid = "oWx_-" + "A1b2C3d4E5" * 2  # every kind of character an openid may have, 25 of them
    fields = register_fields(UsrId=openid, MerPriv="备注 & a=b")
    fields["ChkValue"] = chk_value(huifu_private, fields, REGISTER_ORDER)
    response = client.post("/register", data=fields)
    assert response.status_code == 200, response.json
    assert stored("bank_customers") == [(openid, fields["UsrCustId"], False)]


def _refused(response, stored, redis_client, cache_key, status=400):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.json["msg"]
    assert "RECV" not in response.get_data(as_text=True)
    assert stored("bank_customers") == []
    assert redis_client.hlen(cache_key) == 0


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda f: {**f, "UsrCustId": "6000060999999999"}, id="changed-signed-field"),
    pytest.param(lambda f: {**f, "ChkValue": "00" + f["ChkValue"][2:]}, id="changed-signature"),
    pytest.param(lambda f: {k: v for k, v in f.items() if k != "ChkValue"}, id="missing-chkvalue"),
    pytest.param(lambda f: {**f, "ChkValue": "not hex"}, id="garbage-chkvalue"),
])
def test_tampered_callback_is_refused(client, sign_register, stored, redis_client, cache_key, tamper):
    _refused(client.post("/register", data=tamper(sign_register(register_fields()))), stored, redis_client, cache_key)


def test_reordered_fields_signature_is_refused(client, huifu_private, stored, redis_client, cache_key):
    fields = register_fields()
    swapped = REGISTER_ORDER.copy()
    swapped[3], swapped[4] = swapped[4], swapped[3]  # UsrCustId before UsrId
    fields["ChkValue"] = chk_value(huifu_private, fields, swapped)
    _refused(client.post("/register", data=fields), stored, redis_client, cache_key)


def test_signature_by_another_key_is_refused(client, infra, stored, redis_client, cache_key):
    fields = register_fields()
    fields["ChkValue"] = chk_value(f"{infra.keys_dir}/bank_private.pem", fields, REGISTER_ORDER)
    _refused(client.post("/register", data=fields), stored, redis_client, cache_key)


def test_md5_by_configuration(make_app, sign_register, stored):
    md5_client = make_app(HUIFU_SIGN_HASH="MD5").test_client()
    sha256_signed = sign_register(register_fields())
    assert md5_client.post("/register", data=sha256_signed).status_code == 400
    fields = register_fields()
    response = md5_client.post("/register", data=sign_register(fields, "MD5"))
    assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    assert [row[0] for row in stored("bank_customers")] == [fields["UsrId"]]


@pytest.mark.parametrize("overrides", [
    pytest.param({"UsrId": "o" * 26}, id="openid-26-ascii-bytes"),
    pytest.param({"UsrId": "微信用户甲乙丙丁九"}, id="openid-9-chinese-27-bytes"),
    pytest.param({"UsrId": "微信用户甲乙丙丁x"}, id="openid-non-ascii-25-bytes"),
    pytest.param({"UsrId": "ｏｐｅｎｉｄ"}, id="openid-full-width-letters"),
    pytest.param({"UsrId": "WANXINP2P"}, id="openid-of-the-platform-ledger-account"),
    pytest.param({"UsrId": ""}, id="openid-missing"),
    pytest.param({"UsrId": " padded"}, id="openid-surrounding-space"),
    pytest.param({"UsrCustId": "600006000000001"}, id="cust-id-15"),
    pytest.param({"UsrCustId": "60000600000000012"}, id="cust-id-17"),
    pytest.param({"UsrCustId": "六000060000000001"[:16]}, id="cust-id-non-ascii"),
    pytest.param({"MerCustId": "6000060000000002"}, id="wrong-merchant"),
    pytest.param({"CmdId": "NetSave"}, id="wrong-command"),
    pytest.param({"TrxId": ""}, id="trx-id-missing"),
])
def test_invalid_but_signed_register_is_refused(client, sign_register, stored, redis_client, cache_key, overrides):
    _refused(client.post("/register", data=sign_register(register_fields(**overrides))), stored, redis_client,
             cache_key)


def test_contradicting_binding_is_a_conflict(client, sign_register, stored):
    first = register_fields()
    assert client.post("/register", data=sign_register(first)).status_code == 200
    other_cust = register_fields(UsrId=first["UsrId"])
    other_openid = register_fields(UsrCustId=first["UsrCustId"])
    for fields in (other_cust, other_openid):
        response = client.post("/register", data=sign_register(fields))
        assert response.status_code == 409
        assert "RECV" not in response.get_data(as_text=True)
    assert stored("bank_customers") == [(first["UsrId"], first["UsrCustId"], False)]


def test_failed_registration_is_acknowledged_but_not_stored(client, sign_register, stored, redis_client, cache_key):
    fields = register_fields(RespCode="999", RespDesc="用户取消", UsrCustId="")
    response = client.post("/register", data=sign_register(fields))
    assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    assert stored("bank_customers") == []
    assert redis_client.hlen(cache_key) == 0


def test_unsupported_hash_is_a_configuration_error(make_app):
    with pytest.raises(ValueError, match="HUIFU_SIGN_HASH"):
        make_app(HUIFU_SIGN_HASH="SHA512")
