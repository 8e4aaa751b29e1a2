"""What the background callbacks do once verified: store durably, then acknowledge.

Each handler returns the receipt text only after its transaction has committed, so a
``RECV_ORD_ID_<TrxId>`` the bank sees always means the callback is stored.
"""
import logging

from psycopg_pool import ConnectionPool

from shared.db import unit_of_work
from shared.errors import BadRequest, Conflict
from shared.money import parse_yuan

from bank_callback import repository
from bank_callback.cache import CustomerCache
from bank_callback.huifu import NET_SAVE, is_success, receipt

log = logging.getLogger(__name__)
OPENID_MAX_BYTES = 25
CUST_ID_LENGTH = 16
ORD_ID_MAX_LENGTH = 30


def record_registration(pool: ConnectionPool, cache: CustomerCache, fields: dict) -> str:
    """Apply a verified UserRegister callback and return its receipt.

    Success binds openid (UsrId) to cust_id (UsrCustId) once; the same binding again changes
    nothing; a binding that contradicts a live one (either side already bound elsewhere) is a
    :class:`Conflict`. A failed registration (RespCode not 000) stores nothing: it is logged and
    acknowledged, since the bank would only repeat the same final answer.
    """
    if not is_success(fields):
        log.warning("UserRegister reported failure; nothing stored", extra={"fields": {
            "UsrId": fields.get("UsrId", "")[:64], "RespCode": fields.get("RespCode", "")[:16],
            "RespDesc": fields.get("RespDesc", "")[:200], "TrxId": fields["TrxId"]}})
        return receipt(fields)
    openid = _openid(fields.get("UsrId", ""))
    cust_id = _cust_id(fields.get("UsrCustId", ""))
    with unit_of_work(pool) as conn:
        if not repository.insert_customer(conn, openid, cust_id):
            holders = repository.live_bindings(conn, openid, cust_id)
            if holders != [{"openid": openid, "cust_id": cust_id}]:
                log.error("UserRegister contradicts a live binding; refused", extra={"fields": {
                    "openid": openid, "cust_id": cust_id, "live": holders, "TrxId": fields["TrxId"]}})
                raise Conflict(f"UsrId {openid} or UsrCustId {cust_id} is already bound to another customer")
    cache.remember(openid, cust_id)
    return receipt(fields)


def record_netsave(pool: ConnectionPool, fields: dict, max_fen: int) -> str:
    """Store a verified NetSave callback once per OrdId and return its receipt.

    ``data`` keeps every field but UsrCustId and OrdId (which have their own columns). A repeat
    with the same signed fields changes nothing; the same OrdId with other signed fields is a
    :class:`Conflict`.
    """
    cust_id = _cust_id(fields.get("UsrCustId", ""))
    ord_id = _ord_id(fields.get("OrdId", ""))
    if is_success(fields):
        parse_yuan(fields.get("TransAmt"), "TransAmt", max_fen)
    data = {name: value for name, value in fields.items() if name not in ("UsrCustId", "OrdId")}
    with unit_of_work(pool) as conn:
        if not repository.insert_netsave(conn, cust_id, ord_id, data):
            stored = repository.find_netsave(conn, ord_id)
            if _signed_values(stored["cust_id"], ord_id, stored["data"]) != _signed_values(cust_id, ord_id, data):
                raise Conflict(f"OrdId {ord_id} was already received with different content")
    return receipt(fields)


def _signed_values(cust_id: str, ord_id: str, data: dict) -> list[str]:
    fields = {**data, "UsrCustId": cust_id, "OrdId": ord_id}
    return [fields.get(name, "") for name in NET_SAVE.signed_fields]


def _openid(value: str) -> str:
    if not value:
        raise BadRequest("UsrId (openid) is required")
    if len(value.encode("utf-8")) > OPENID_MAX_BYTES:
        raise BadRequest(f"UsrId (openid) must be at most {OPENID_MAX_BYTES} bytes in UTF-8")
    if value != value.strip() or not value.isprintable():
        raise BadRequest("UsrId (openid) must not carry surrounding spaces or control characters")
    return value


def _cust_id(value: str) -> str:
    if len(value) != CUST_ID_LENGTH or not (value.isascii() and value.isalnum()):
        raise BadRequest(f"UsrCustId must be exactly {CUST_ID_LENGTH} ASCII letters or digits")
    return value


def _ord_id(value: str) -> str:
    if not value or len(value) > ORD_ID_MAX_LENGTH or value != value.strip() or not value.isprintable():
        raise BadRequest(f"OrdId is required: 1 to {ORD_ID_MAX_LENGTH} printable characters without surrounding spaces")
    return value
