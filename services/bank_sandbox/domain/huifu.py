"""The Huifu channel: UserRegister and NetSave, each answered by a signed background callback to
bank-callback (queued in the outbox) and a page-callback URL for the browser.

The signed fields are joined without separators, so every callback is built in the exact formats
bank-callback requires (docs/protocols.md): usrId 1-25 letters, digits, '_' or '-'; OrdId 1-30 digits;
TrxId 18 digits; OrdDate today; TransAmt with two decimals; BgRetUrl and RetUrl the callback URLs
under BANK_CALLBACK_URL; RespCode 000, 351 or 999; MerPriv at most 120 printable characters.
Inputs that could not be sent that way are refused with 400."""
import re
import secrets
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from shared.db import unit_of_work
from shared.errors import BadRequest, Conflict, NotFound
from shared.money import format_fen, parse_yuan
from shared.signing import huifu_chk_value

from bank_sandbox import keys
from bank_sandbox.domain.outbox import BANK_CALLBACK, enqueue
from bank_sandbox.repositories import huifu as store

SUCCESS_CODE = "000"
SIGNED_FIELDS = {
    "UserRegister": ("CmdId", "RespCode", "MerCustId", "UsrId", "UsrCustId", "BgRetUrl", "TrxId", "RetUrl", "MerPriv"),
    "NetSave": ("CmdId", "RespCode", "MerCustId", "UsrCustId", "OrdId", "OrdDate", "TransAmt", "TrxId", "RetUrl",
                "BgRetUrl", "MerPriv"),
}
_CALLBACK_PATHS = {"UserRegister": ("/register", "/RegisterCallback"), "NetSave": ("/netsave", "/NetSaveCallback")}
_ORD_ID = re.compile(r"[0-9]{1,30}")
_USR_ID = re.compile(r"[A-Za-z0-9_-]{1,25}")
MER_PRIV_MAX = 120
DECLINED, CARD_INSUFFICIENT = "999", "351"
# RespDesc per command and RespCode: the same texts the platform shows for these codes.
RESULTS = {
    "UserRegister": {SUCCESS_CODE: "开户成功", DECLINED: "用户取消开户"},
    "NetSave": {SUCCESS_CODE: "充值成功", CARD_INSUFFICIENT: "银行卡余额不足", DECLINED: "用户取消充值"},
}


def register(pool, config: dict, usr_id: str, usr_name: str = "", outcome: str = "success", mer_priv: str = "") -> dict:
    """Open a Huifu customer for ``usr_id`` (idempotent: a registered usrId gets its original answer)."""
    _check_usr_id(usr_id, config["PLATFORM_NO"])
    _check_mer_priv(mer_priv)
    with unit_of_work(pool) as conn:
        store.serialize_on(conn, "huifu-register:" + usr_id)
        existing = store.successful_register(conn, usr_id)
        if existing is not None:
            return _answer(existing["fields"], existing["page_url"])
        usr_cust_id, result = "", DECLINED
        if outcome != "fail":
            usr_cust_id, result = _open_customer(conn, config, usr_id, usr_name), SUCCESS_CODE
        fields = {"CmdId": "UserRegister", "RespCode": result, "RespDesc": RESULTS["UserRegister"][result],
                  "MerCustId": config["HUIFU_MER_CUST_ID"], "UsrId": usr_id, "UsrCustId": usr_cust_id,
                  "TrxId": _trx_id(), "MerPriv": mer_priv}
        return _issue(conn, config, fields, None)


def netsave(pool, config: dict, usr_cust_id: str, amount, ord_id: str | None = None, outcome: str = "success",
            mer_priv: str = "") -> dict:
    """Recharge a Huifu customer's balance from their card (idempotent by OrdId; another content -> 409)."""
    fen = parse_yuan(amount, "amount", config["MAX_AMOUNT_FEN"])
    today = datetime.now(ZoneInfo(config["SANDBOX_TIMEZONE"])).strftime("%Y%m%d")
    ord_id = ord_id or today + "".join(secrets.choice("0123456789") for _ in range(16))
    if not isinstance(ord_id, str) or not _ORD_ID.fullmatch(ord_id):
        raise BadRequest("ordId must be 1 to 30 digits")
    _check_mer_priv(mer_priv)
    with unit_of_work(pool) as conn:
        store.serialize_on(conn, "huifu-netsave:" + ord_id)
        existing = store.order_by_ord_id(conn, ord_id)
        if existing is not None:
            if existing["usr_cust_id"] != usr_cust_id or existing["amount"] != fen:
                raise Conflict(f"ordId {ord_id} was already used for a different recharge")
            return _answer(existing["fields"], existing["page_url"])
        customer = store.lock_customer(conn, usr_cust_id)
        if customer is None:
            raise NotFound(f"unknown usrCustId {str(usr_cust_id)[:20]}")
        if outcome == "fail":
            result = DECLINED
        elif customer["card_balance"] < fen:
            result = CARD_INSUFFICIENT
        else:
            store.move_to_huifu_balance(conn, usr_cust_id, fen)
            result = SUCCESS_CODE
        fields = {"CmdId": "NetSave", "RespCode": result, "RespDesc": RESULTS["NetSave"][result],
                  "MerCustId": config["HUIFU_MER_CUST_ID"], "UsrCustId": usr_cust_id, "OrdId": ord_id,
                  "OrdDate": today, "TransAmt": format_fen(fen), "TrxId": _trx_id(), "MerPriv": mer_priv,
                  "GateBusiId": "B2C", "FeeAmt": "0.00"}
        return _issue(conn, config, fields, fen)


def chk_value(config: dict, fields: dict) -> str:
    """The ChkValue of a callback: the signed fields in SPEC order, an absent one as empty."""
    values = [fields.get(name, "") for name in SIGNED_FIELDS[fields["CmdId"]]]
    return huifu_chk_value(keys.huifu_private(config), values, config["HUIFU_SIGN_HASH"])


def _issue(conn, config: dict, fields: dict, amount: int | None) -> dict:
    """Sign the callback, keep it, queue its background delivery, and answer with the page URL."""
    base = config["BANK_CALLBACK_URL"].rstrip("/")
    background, page = _CALLBACK_PATHS[fields["CmdId"]]
    fields = {**fields, "BgRetUrl": base + background, "RetUrl": base + page}
    fields["ChkValue"] = chk_value(config, fields)
    page_url = f"{base}{page}?{urlencode(fields)}"
    store.insert_order(conn, fields, amount, page_url)
    enqueue(conn, config, BANK_CALLBACK, background, "form", fields["TrxId"], fields, f"RECV_ORD_ID_{fields['TrxId']}")
    return _answer(fields, page_url)


def _answer(fields: dict, page_url: str) -> dict:
    answer = {"usrId": fields.get("UsrId"), "usrCustId": fields.get("UsrCustId"), "ordId": fields.get("OrdId"),
              "trxId": fields["TrxId"], "respCode": fields["RespCode"], "respDesc": fields["RespDesc"],
              "pageCallbackUrl": page_url}
    return {name: value for name, value in answer.items() if value is not None}


def _open_customer(conn, config: dict, usr_id: str, usr_name: str) -> str:
    """Insert the customer under a fresh UsrCustId ("6000060" + 9 digits), retrying a taken number."""
    while True:
        usr_cust_id = "6000060" + "".join(secrets.choice("0123456789") for _ in range(9))
        if store.insert_customer(conn, usr_cust_id, usr_id, usr_name, config["CARD_BALANCE_FEN"]):
            return usr_cust_id
        if store.customer_by_usr_id(conn, usr_id) is not None:
            raise Conflict(f"usrId {usr_id} is already registered")


def _trx_id() -> str:
    """An 18-digit Huifu transaction id."""
    return secrets.choice("123456789") + "".join(secrets.choice("0123456789") for _ in range(17))


def _check_usr_id(usr_id, platform_no: str) -> None:
    if not isinstance(usr_id, str) or not _USR_ID.fullmatch(usr_id):
        raise BadRequest("usrId must be 1 to 25 letters, digits, '_' or '-'")
    if usr_id == platform_no:
        raise BadRequest("usrId must not be the platform's own account")


def _check_mer_priv(mer_priv) -> None:
    if not isinstance(mer_priv, str) or len(mer_priv) > MER_PRIV_MAX or not mer_priv.isprintable():
        raise BadRequest(f"merPriv must be at most {MER_PRIV_MAX} printable characters")
