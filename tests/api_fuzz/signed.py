"""Strategies for correctly signed but fuzzed bank messages.

Without them every case sent to a signature-checking endpoint stops at "bad signature"; with them
the fuzzer reaches what runs after verification: parsing, amounts, state changes, storage.
Each strategy draws a coherent message (about half the time exactly valid), changes or drops some
of its fields the other half, and signs it with the run's dev keys exactly as the bank, the
platform or Huifu would.
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from shared.signing import encode_wanxin, huifu_chk_value, load_key, wanxin_time

PLATFORM_NO = "WANXINP2P"
MER_CUST_ID = "6000060000000001"
CALLBACK_URL = "http://127.0.0.1:8001/#/callback"
CST = ZoneInfo("Asia/Shanghai")  # the Huifu bank's business day
DROP = object()  # a mutation that removes the field
HOSTILE = st.one_of(st.just(DROP), st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=40), st.lists(st.integers(), max_size=2))
HOSTILE_TEXT = st.one_of(st.just(DROP), st.text(max_size=40))
HOSTILE_AMOUNTS = st.one_of(st.sampled_from(["0", "0.00", "-1.00", "0.001", "1e3", "NaN", "1000000.01", " 1.00",
                                             "99999999999999999999.99"]), HOSTILE)


def _valid_or_mutated(valid, mutations: dict):
    """``valid`` messages, or ones with some fields replaced by ``mutations`` (or dropped)."""
    def apply(pair):
        message, changes = pair
        merged = {**message, **changes}
        return {name: value for name, value in merged.items() if value is not DROP}

    changed = st.tuples(valid, st.fixed_dictionaries({}, optional=mutations)).map(apply)
    return st.one_of(valid, changed)


def _request_no():
    return st.binary(min_size=16, max_size=16).map(lambda raw: "REQ_" + raw.hex().upper())


def _wanxin(service_name: str, payload: dict, private_key) -> dict:
    req_data, signature = encode_wanxin(payload, private_key)
    return {"serviceName": service_name, "platformNo": PLATFORM_NO, "reqData": req_data, "signature": signature}


def _signed_wanxin(valid, mutations: dict, private_key):
    """Signed ``{serviceName, platformNo, reqData, signature}``; the envelope fields are fuzzed too."""
    envelope = {"serviceName": st.one_of(st.sampled_from(["PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"]),
                                         HOSTILE_TEXT),
                "platformNo": st.one_of(st.just("OTHERP2P"), HOSTILE_TEXT)}
    messages = st.tuples(valid, st.fixed_dictionaries({}, optional=mutations)).map(
        lambda pair: (pair[0][0], {k: v for k, v in {**pair[0][1], **pair[1]}.items() if v is not DROP}))
    signed = st.one_of(valid, messages).map(lambda pair: _wanxin(pair[0], pair[1], private_key))
    return _valid_or_mutated(signed, envelope)


def bank_notifications(keys_dir: str, records: list[dict]):
    """What the bank sends the agent's ``/gateway``, signed with the bank's key.

    ``records``: ``{serviceName, requestNo, amount?}`` of requests the agent knows; notifications
    answer them (success or failure), or unknown requests.
    """
    def notification(parts):
        record, success, request_no = parts
        payload = {"requestNo": request_no or record["requestNo"], "respCode": "00000" if success else "10001",
                   "respMsg": "success" if success else "declined", "status": 1 if success else 2}
        if record["serviceName"] == "PERSONAL_REGISTER":
            payload |= {"bankCode": "ICBC", "bankName": "工商银行"}
        else:
            payload |= {"transactionStatus": "SUCCESS" if success else "FAIL", "amount": record["amount"]}
        return record["serviceName"], payload

    valid = st.tuples(st.sampled_from(records), st.booleans(), st.one_of(st.none(), _request_no())).map(notification)
    mutations = {name: HOSTILE for name in ("requestNo", "respCode", "respMsg", "status", "bankCode",
                                            "bankName", "transactionStatus")}
    mutations["amount"] = HOSTILE_AMOUNTS
    return _signed_wanxin(valid, mutations, load_key(str(Path(keys_dir) / "bank_private.pem")))


def request_times() -> dict:
    """``timestamp`` now and ``expired`` the platform's default 1800 s later, as the agent signs them."""
    signed_at = datetime.now(timezone.utc)
    return {"timestamp": wanxin_time(signed_at), "expired": wanxin_time(signed_at + timedelta(seconds=1800))}


def platform_request(keys_dir: str, service_name: str, payload: dict) -> dict:
    """One request signed with the platform's key, as the agent would make it (with its times)."""
    return _wanxin(service_name, {**payload, **request_times()}, load_key(str(Path(keys_dir) / "platform_private.pem")))


def platform_requests(keys_dir: str, user_no: str, mobile: str):
    """What the platform sends the bank's ``/gateway``, signed with the platform's key.

    Registers open new bank users; recharges and withdraws are for ``user_no``, a user the bank knows.
    """
    card = {"cardNumber": "6222020200112233445", "mobile": mobile}

    def request(parts):
        service_name, request_no, new_user_no = parts
        payload = {"requestNo": request_no, "callbackUrl": CALLBACK_URL, **request_times()}
        if service_name == "PERSONAL_REGISTER":
            payload |= {"userNo": new_user_no, "fullname": "张三", "idNumber": "110101199003071234",
                        "bankCode": "ICBC", "role": "I", **card}
        elif service_name == "RECHARGE":
            payload |= {"userNo": user_no, "amount": "10.00"}
        else:
            payload |= {"userNo": user_no, "amount": "1.00", "commission": "0.00", **card}
        return service_name, payload

    user_nos = st.binary(min_size=16, max_size=16).map(lambda raw: "USR_" + raw.hex().upper())
    valid = st.tuples(st.sampled_from(["PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"]), _request_no(),
                      user_nos).map(request)
    mutations = {name: HOSTILE for name in ("requestNo", "userNo", "fullname", "idNumber", "bankCode",
                                            "cardNumber", "mobile", "role", "timestamp", "expired")}
    mutations |= {"amount": HOSTILE_AMOUNTS, "commission": HOSTILE_AMOUNTS,
                  "callbackUrl": st.one_of(st.sampled_from(["javascript:alert(1)", "ftp://x", "http://"]), HOSTILE)}
    return _signed_wanxin(valid, mutations, load_key(str(Path(keys_dir) / "platform_private.pem")))


USER_REGISTER_FIELDS = ("CmdId", "RespCode", "MerCustId", "UsrId", "UsrCustId", "BgRetUrl", "TrxId", "RetUrl",
                        "MerPriv")
NET_SAVE_FIELDS = ("CmdId", "RespCode", "MerCustId", "UsrCustId", "OrdId", "OrdDate", "TransAmt", "TrxId",
                   "RetUrl", "BgRetUrl", "MerPriv")


def huifu_callbacks(keys_dir: str, command: str, cust_ids: list[str], callback_url: str):
    """A Huifu ``UserRegister`` or ``NetSave`` callback with a valid ``ChkValue``, about half of them in
    bank-callback's exact formats (``callback_url``: the base of the URLs the bank was given).

    ``cust_ids``: UsrCustIds to use; NetSave callbacks for a registered one reach the crediting path.
    """
    key = load_key(str(Path(keys_dir) / "huifu_private.pem"))
    order = USER_REGISTER_FIELDS if command == "UserRegister" else NET_SAVE_FIELDS
    background, page = ("/register", "/RegisterCallback") if command == "UserRegister" else \
        ("/netsave", "/NetSaveCallback")
    ids = st.integers(min_value=1, max_value=10**9)

    def callback(parts):
        number, success, cust_id = parts
        fields = {"CmdId": command, "RespCode": "000" if success else "999", "MerCustId": MER_CUST_ID,
                  "UsrCustId": cust_id, "TrxId": f"{number:012d}", "RetUrl": callback_url + page,
                  "BgRetUrl": callback_url + background, "MerPriv": "", "RespDesc": "成功" if success else "失败"}
        if command == "UserRegister":
            return fields | {"UsrId": f"fuzz{number:010d}"}
        return fields | {"OrdId": f"{number:012d}", "OrdDate": datetime.now(CST).strftime("%Y%m%d"),
                         "TransAmt": "100.00", "GateBusiId": "QP", "FeeAmt": "0.00"}

    valid = st.tuples(ids, st.booleans(), st.one_of(st.sampled_from(cust_ids), st.integers(
        min_value=6000060000000000, max_value=6000069999999999).map(str))).map(callback)
    text = st.one_of(st.sampled_from(["", "x" * 25, "x" * 26, "用户" * 7, "6000060000000001" + "0"]), HOSTILE_TEXT)
    mutations = {name: text for name in (*order, "RespDesc") if name != "CmdId"}
    mutations["TransAmt"] = st.one_of(st.sampled_from(["0.00", "-1.00", "1e9", "abc", "99999999999999.99"]), text)
    mutations["OrdDate"] = st.one_of(st.sampled_from(["20261341", "2026", "00000000"]), text)

    def sign(fields):
        return fields | {"ChkValue": huifu_chk_value(key, [fields.get(name, "") for name in order])}

    return _valid_or_mutated(valid, mutations).map(sign)
