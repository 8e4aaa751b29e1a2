"""What the callbacks do once verified (:mod:`bank_callback.huifu`): background callbacks are stored
durably, then acknowledged; page callbacks send the browser on to the frontend.

A bank transaction (TrxId) is one callback: the first background callback of a TrxId is recorded
with its signed fields in the same transaction as what it stores, and the same TrxId with other
signed fields is an :class:`~bank_callback.anomalies.Anomaly`. Each handler returns the receipt text
only after its transaction has committed, so a ``RECV_ORD_ID_<TrxId>`` the bank sees always means
the callback is stored. The cache is written after the commit, with no transaction open.
"""
import logging
from urllib.parse import quote, urlencode

from psycopg import Connection
from psycopg_pool import ConnectionPool

from shared.db import unit_of_work

from bank_callback.anomalies import Anomaly
from bank_callback.customer_cache import CustomerCache
from bank_callback.huifu import NET_SAVE, USER_REGISTER, Command, is_success, receipt, signed_values
from bank_callback.repository import customers, netsaves, transactions

log = logging.getLogger(__name__)


def record_registration(pool: ConnectionPool, cache: CustomerCache, fields: dict) -> str:
    """Apply a verified UserRegister callback and return its receipt.

    Success binds openid (UsrId) to cust_id (UsrCustId) once; the same callback again changes
    nothing but re-copies the binding to the cache; a binding that contradicts a live one (either
    side already bound elsewhere) is an anomaly. A failed registration (RespCode not 000) binds
    nothing: it is logged and acknowledged, since the bank would only repeat the same final answer.
    """
    openid, cust_id = fields["UsrId"], fields.get("UsrCustId", "")
    with unit_of_work(pool) as conn:
        new = _claim(conn, USER_REGISTER, fields)
        if new and not is_success(fields):
            log.warning("UserRegister reported failure; nothing bound", extra={"fields": {
                "UsrId": openid, "RespCode": fields["RespCode"], "TrxId": fields["TrxId"]}})
        elif new and not customers.insert_customer(conn, openid, cust_id) and \
                customers.live_bindings(conn, openid, cust_id) != [{"openid": openid, "cust_id": cust_id}]:
            # The same binding stored by an earlier transaction is no contradiction.
            raise Anomaly("binding_conflict", f"UsrId {openid} or UsrCustId {cust_id} is already bound to another"
                                              " customer")
    if is_success(fields):
        cache.remember(openid, cust_id)
    return receipt(fields)


def record_netsave(pool: ConnectionPool, fields: dict) -> str:
    """Store a verified NetSave callback once and return its receipt.

    ``data`` keeps every field but UsrCustId and OrdId (which have their own columns). The same
    callback again changes nothing; the same OrdId in another bank transaction is an anomaly.
    """
    cust_id, ord_id = fields["UsrCustId"], fields["OrdId"]
    data = {name: value for name, value in fields.items() if name not in ("UsrCustId", "OrdId")}
    with unit_of_work(pool) as conn:
        if _claim(conn, NET_SAVE, fields) and not netsaves.insert_netsave(conn, cust_id, ord_id, data):
            stored = netsaves.find_netsave(conn, ord_id)
            # A row stored before transactions were recorded may be this very callback.
            if signed_values(NET_SAVE, {**stored["data"], "UsrCustId": stored["cust_id"], "OrdId": ord_id}) != \
                    signed_values(NET_SAVE, fields):
                raise Anomaly("ord_id_reused", f"OrdId {ord_id} was already received with other signed fields")
    return receipt(fields)


def page_redirect(pool: ConnectionPool, command: Command, fields: dict, frontend: str) -> str:
    """Where a verified page callback sends the browser: ``<frontend>#/<route>?RespCode=..&RespDesc=..``,
    both percent-encoded (space as %20).

    A page callback stores nothing, but one whose TrxId is stored with other signed fields is an
    anomaly. RespDesc is the platform's own text for the (signed) RespCode: the RespDesc the bank
    sends is not signed, so it is never shown to the user.
    """
    with pool.connection() as conn:
        stored = transactions.find_transaction(conn, fields["TrxId"])
    if stored is not None:
        _same_transaction(command, fields, stored)
    resp_code = fields["RespCode"]
    query = urlencode({"RespCode": resp_code, "RespDesc": command.resp_codes[resp_code]}, quote_via=quote)
    return f"{frontend}#/{command.frontend_route}?{query}"


def _claim(conn: Connection, command: Command, fields: dict) -> bool:
    """Record the callback's TrxId; True when it is new, False for the very same callback again."""
    stored = transactions.claim_transaction(conn, fields["TrxId"], command.name, signed_values(command, fields))
    if stored is None:
        return True
    _same_transaction(command, fields, stored)
    return False


def _same_transaction(command: Command, fields: dict, stored: dict) -> None:
    if stored["cmd_id"] != command.name or stored["signed"] != signed_values(command, fields):
        raise Anomaly("trx_id_reused", f"TrxId {fields['TrxId']} was already received with other signed fields")
