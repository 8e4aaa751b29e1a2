"""The Huifu channel: UserRegister and NetSave callbacks, signed (SHA256 or MD5) and retried until
the exact RECV_ORD_ID_<TrxId> reply."""
import re
import uuid
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from bank_sandbox.app import create_app
from bank_sandbox.domain.huifu import SIGNED_FIELDS
from shared.signing import verify_huifu
from tests.bank_sandbox.conftest import fetch_one
from tests.bank_sandbox.test_notifier import drain


def _verifies(platform, fields: dict, hash_name: str) -> bool:
    values = [fields.get(name, "") for name in SIGNED_FIELDS[fields["CmdId"]]]
    return verify_huifu(platform.huifu_public, values, fields["ChkValue"], hash_name)


def _usr_id() -> str:
    return "o" + uuid.uuid4().hex[:24]  # 25 characters, like a WeChat openid


def _delivered(pool, trx_id) -> bool:
    return fetch_one(pool, "select delivered from deliveries where reference = %s", trx_id)["delivered"]


def test_register_sends_a_signed_callback_until_the_exact_reply(client, pool, settings, platform, receiver):
    receiver.script = [(200, "RECV_ORD_ID_"), (200, "OK"), (503, "busy")]
    usr_id = _usr_id()
    answer = client.post("/huifu/register", json={"usrId": usr_id, "usrName": "李四"})
    assert answer.status_code == 200
    body = answer.json
    assert body["usrId"] == usr_id and len(body["usrCustId"]) == 16 and body["usrCustId"].startswith("6000060")
    assert len(body["trxId"]) == 18 and body["trxId"].isdigit() and body["respCode"] == "000"
    drain(pool, settings, lambda: _delivered(pool, body["trxId"]))
    assert len(receiver.calls) == 4 and {call.path for call in receiver.calls} == {"/register"}
    callback = receiver.calls[-1]
    assert callback.content_type.startswith("application/x-www-form-urlencoded")
    fields = callback.form
    assert fields["CmdId"] == "UserRegister" and fields["MerCustId"] == settings["HUIFU_MER_CUST_ID"]
    assert fields["UsrId"] == usr_id and fields["UsrCustId"] == body["usrCustId"] and fields["TrxId"] == body["trxId"]
    assert fields["BgRetUrl"] == receiver.url + "/register" and fields["RetUrl"] == receiver.url + "/RegisterCallback"
    assert _verifies(platform, fields, "SHA256")
    assert not _verifies(platform, {**fields, "UsrId": "someone-else"}, "SHA256")

    page = urlsplit(body["pageCallbackUrl"])
    assert f"{page.scheme}://{page.netloc}{page.path}" == receiver.url + "/RegisterCallback"
    assert dict(parse_qsl(page.query, keep_blank_values=True)) == fields
    again = client.post("/huifu/register", json={"usrId": usr_id})
    assert again.json == body  # a registered usrId gets its original answer, no second callback
    assert fetch_one(pool, "select count(*) from deliveries")["count"] == 1


def test_netsave_moves_card_money_and_calls_back(client, pool, settings, platform, receiver):
    usr_cust_id = client.post("/huifu/register", json={"usrId": _usr_id()}).json["usrCustId"]
    answer = client.post("/huifu/netsave", json={"usrCustId": usr_cust_id, "amount": "300.25", "ordId": "2024010100000001"})
    assert answer.status_code == 200 and answer.json["respCode"] == "000" and answer.json["ordId"] == "2024010100000001"
    balances = fetch_one(pool, "select card_balance, huifu_balance from huifu_customers where usr_cust_id = %s",
                         usr_cust_id)
    assert balances == {"card_balance": settings["CARD_BALANCE_FEN"] - 30025, "huifu_balance": 30025}
    drain(pool, settings, lambda: _delivered(pool, answer.json["trxId"]))
    netsave = [call for call in receiver.calls if call.path == "/netsave"]
    assert len(netsave) == 1
    fields = netsave[0].form
    assert fields["CmdId"] == "NetSave" and fields["TransAmt"] == "300.25" and fields["OrdId"] == "2024010100000001"
    assert len(fields["OrdDate"]) == 8 and fields["UsrCustId"] == usr_cust_id and "FeeAmt" in fields
    assert _verifies(platform, fields, "SHA256")
    assert urlsplit(answer.json["pageCallbackUrl"]).path == "/NetSaveCallback"

    replay = client.post("/huifu/netsave", json={"usrCustId": usr_cust_id, "amount": "300.25", "ordId": "2024010100000001"})
    assert replay.json == answer.json
    conflict = client.post("/huifu/netsave", json={"usrCustId": usr_cust_id, "amount": "1.00", "ordId": "2024010100000001"})
    assert conflict.status_code == 409
    too_much = client.post("/huifu/netsave", json={"usrCustId": usr_cust_id, "amount": "99999.00"})
    assert too_much.status_code == 200 and too_much.json["respCode"] == "351"
    assert fetch_one(pool, "select huifu_balance from huifu_customers where usr_cust_id = %s",
                     usr_cust_id)["huifu_balance"] == 30025


def test_huifu_input_is_checked(client):
    assert client.post("/huifu/register", json={"usrId": "x" * 26}).status_code == 400
    assert client.post("/huifu/register", json={"usrId": "两个汉字两个汉字两个汉字"}).status_code == 400  # 36 bytes
    assert client.post("/huifu/netsave", json={"usrCustId": "6000060999999999", "amount": "1.00"}).status_code == 404
    assert client.post("/huifu/netsave", json={"usrCustId": "6000060999999999", "amount": 1.5}).status_code == 400
    failed = client.post("/huifu/register", json={"usrId": _usr_id(), "outcome": "fail"}).json
    assert failed["respCode"] != "000" and failed["usrCustId"] == ""


@pytest.fixture
def md5_app(settings):
    app = create_app({**settings, "HUIFU_SIGN_HASH": "MD5"})
    yield app
    app.extensions["db"].close()


def test_md5_chk_value(md5_app, settings, platform, receiver):
    client = md5_app.test_client()
    pool = md5_app.extensions["db"]
    usr_cust_id = client.post("/huifu/register", json={"usrId": _usr_id()}).json["usrCustId"]
    trx_id = client.post("/huifu/netsave", json={"usrCustId": usr_cust_id, "amount": "8.00"}).json["trxId"]
    drain(pool, settings, lambda: _delivered(pool, trx_id))
    for call in receiver.calls:
        assert _verifies(platform, call.form, "MD5")
        assert not _verifies(platform, call.form, "SHA256")
    assert {call.path for call in receiver.calls} == {"/register", "/netsave"}


# The exact formats bank-callback requires of every signed field (docs/protocols.md), restated here.
FORMATS = {
    "UserRegister": {"CmdId": r"UserRegister", "RespCode": r"000|999", "MerCustId": r"6000060000000001",
                     "UsrId": r"[A-Za-z0-9_-]{1,25}", "UsrCustId": r"[0-9]{16}|", "TrxId": r"[0-9]{1,18}",
                     "BgRetUrl": r"{base}/register", "RetUrl": r"{base}/RegisterCallback", "MerPriv": r"[^\x00-\x1f]{0,120}"},
    "NetSave": {"CmdId": r"NetSave", "RespCode": r"000|351|999", "MerCustId": r"6000060000000001",
                "UsrCustId": r"[0-9]{16}", "OrdId": r"[0-9]{1,30}", "OrdDate": r"{today}",
                "TransAmt": r"(0|[1-9][0-9]*)\.[0-9]{2}", "TrxId": r"[0-9]{1,18}", "RetUrl": r"{base}/NetSaveCallback",
                "BgRetUrl": r"{base}/netsave", "MerPriv": r"[^\x00-\x1f]{0,120}"},
}


def test_every_callback_is_sent_in_the_exact_formats_of_the_platform(client, pool, settings, platform, receiver):
    """Digit OrdId and TrxId, the configured callback URLs, today's OrdDate, known RespCodes and their texts."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    answers = [client.post("/huifu/register", json={"usrId": "wx_user-" + uuid.uuid4().hex[:8], "merPriv": "备注 a+b"}),
               client.post("/huifu/register", json={"usrId": _usr_id(), "outcome": "fail"})]
    cust_id = answers[0].json["usrCustId"]
    answers += [client.post("/huifu/netsave", json={"usrCustId": cust_id, "amount": amount, "outcome": outcome})
                for amount, outcome in (("0.01", "success"), ("100", "success"), ("12.30", "fail"),
                                        ("99999.99", "success"))]
    answers.append(client.post("/huifu/netsave", json={"usrCustId": cust_id, "amount": "1.00", "ordId": "0001"}))
    assert [answer.status_code for answer in answers] == [200] * 7
    assert [answer.json["respCode"] for answer in answers] == ["000", "999", "000", "000", "999", "351", "000"]
    for answer in answers:
        drain(pool, settings, lambda trx_id=answer.json["trxId"]: _delivered(pool, trx_id))
    texts = {"UserRegister": {"000": "开户成功", "999": "用户取消开户"},
             "NetSave": {"000": "充值成功", "351": "银行卡余额不足", "999": "用户取消充值"}}
    assert len(receiver.calls) == 7
    for call in receiver.calls:
        fields = call.form
        formats = FORMATS[fields["CmdId"]]
        for name, pattern in formats.items():
            expected = pattern.replace("{base}", re.escape(receiver.url)).replace("{today}", today)
            assert re.fullmatch(expected, fields.get(name, "")), (name, fields.get(name))
        assert fields["RespDesc"] == texts[fields["CmdId"]][fields["RespCode"]]
        assert _verifies(platform, fields, "SHA256")


@pytest.mark.parametrize("path, body", [
    ("/huifu/register", {"usrId": "微信用户"}),
    ("/huifu/register", {"usrId": "open id"}),
    ("/huifu/register", {"usrId": "ｏｐｅｎｉｄ"}),
    ("/huifu/register", {"usrId": "WANXINP2P"}),
    ("/huifu/register", {"usrId": "openid", "merPriv": "a\nb"}),
    ("/huifu/netsave", {"usrCustId": "6000060000000002", "amount": "1.00", "ordId": "ORD1"}),
    ("/huifu/netsave", {"usrCustId": "6000060000000002", "amount": "1.00", "ordId": "１２３"}),
    ("/huifu/netsave", {"usrCustId": "6000060000000002", "amount": "1.00", "ordId": "1" * 31}),
    ("/huifu/netsave", {"usrCustId": "6000060000000002", "amount": "1.00", "merPriv": "x" * 121}),
])
def test_what_could_not_be_sent_in_the_platforms_formats_is_refused(client, pool, path, body):
    answer = client.post(path, json=body)
    assert answer.status_code == 400, answer.json
    assert fetch_one(pool, "select count(*) from deliveries")["count"] == 0
