"""Applying the bank's results (gateway notifications) to user-center's records, exactly once.

One message = one database transaction: lock the request row, check whether it is already
final, make the idempotent ledger call, settle the row, commit. A crash after the ledger call
but before the commit is repaired by the redelivery, because the ledger ignores a trade number
it has already applied. A duplicate of a money result re-asserts its ledger posting (a replay
there changes nothing), so re-announcing a result repairs a posting the ledger lost.
Results that must not be applied are stored as anomalies.
"""
import json
import logging

from psycopg_pool import ConnectionPool

from shared.db import unit_of_work
from shared.errors import BadRequest, NotFound
from shared.ledger_client import LedgerClient
from shared.money import format_fen, parse_yuan

from user_center.repository import anomalies, consumers, requests

log = logging.getLogger(__name__)
APPLIED, DUPLICATE, ANOMALY = "applied", "duplicate", "anomaly"
SUCCESS_CODE = "00000"


class MalformedMessage(Exception):
    """A message that can never be applied (bad JSON, unknown service, no final status)."""


def parse(body: bytes, fallback_service: str = "") -> dict:
    """The notification JSON with ``serviceName``, ``requestNo`` and an int ``status`` of 1 or 2."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise MalformedMessage("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedMessage("body is not a JSON object")
    payload.setdefault("serviceName", fallback_service)
    if payload["serviceName"] not in requests.TABLES:
        raise MalformedMessage(f"unknown serviceName {str(payload['serviceName'])[:40]!r}")
    if not isinstance(payload.get("requestNo"), str) or not payload["requestNo"]:
        raise MalformedMessage("requestNo is missing")
    status = str(payload.get("status", ""))
    if status not in ("1", "2"):
        raise MalformedMessage(f"status must be 1 (success) or 2 (failure), got {status[:10]!r}")
    payload["status"] = int(status)
    if payload["status"] == 1 and payload.get("respCode", SUCCESS_CODE) != SUCCESS_CODE:
        raise MalformedMessage(f"status 1 with respCode {str(payload.get('respCode'))[:20]!r}")
    return payload


def apply(pool: ConnectionPool, ledger: LedgerClient, payload: dict, message_id: str | None = None) -> str:
    """Apply one parsed notification; returns APPLIED, DUPLICATE or ANOMALY.

    Raises on transient failures (ledger or database unreachable): nothing was committed, the
    caller retries the message later.
    """
    service, request_no = payload["serviceName"], payload["requestNo"]
    success = payload["status"] == 1
    new_status = requests.SUCCESS if success else requests.FAILED
    with unit_of_work(pool) as conn:
        row = requests.lock(conn, service, request_no)
        if row is None:
            return _anomaly(conn, "unknown requestNo", payload, message_id)
        if row["callback_status"] == new_status:
            if service in _LEDGER_SERVICES:  # re-assert the idempotent posting: repairs a lost one
                _APPLIERS[service](conn, ledger, row, payload, success)
            return DUPLICATE
        if row["callback_status"] != requests.PENDING:
            return _anomaly(conn, f"conflicting result: record is final with callback_status "
                                  f"{row['callback_status']}", payload, message_id)
        mismatch = _amount_mismatch(row, payload) if success else None
        if mismatch:
            return _anomaly(conn, mismatch, payload, message_id)
        _APPLIERS[service](conn, ledger, row, payload, success)
        requests.settle(conn, service, request_no, new_status)
    log.info("%s %s applied: %s", service, request_no, "success" if success else "failure")
    return APPLIED


def _anomaly(conn, reason: str, payload: dict, message_id: str | None) -> str:
    anomalies.record(conn, reason, payload, message_id)
    log.error("gateway notification not applied: %s", reason,
              extra={"fields": {"alert": "gateway-notify-anomaly", "request_no": payload.get("requestNo"),
                                "service_name": payload.get("serviceName"), "message_id": message_id}})
    return ANOMALY


def _amount_mismatch(row: dict, payload: dict) -> str | None:
    """A reason when the notified amount is not the recorded one (a success must match exactly)."""
    if "amount" not in row or "amount" not in payload:
        return None
    try:
        notified = parse_yuan(payload["amount"], max_fen=10**17)
    except BadRequest:
        return f"unreadable notified amount {str(payload['amount'])[:32]!r}"
    if notified != row["amount"]:
        return f"notified amount {format_fen(notified)} differs from the record's {format_fen(row['amount'])}"
    return None


def _apply_register(conn, ledger: LedgerClient, row: dict, payload: dict, success: bool) -> None:
    consumer = consumers.find(conn, row["user_no"], for_update=True)
    if not success:
        consumers.mark_failed(conn, row["user_no"], row["request_no"])
        return
    ledger.create_account(row["user_no"], consumer["username"] or row["user_no"])
    bank_name = payload.get("bankName")
    consumers.mark_opened(conn, row["user_no"], {
        "bank_code": row["bank_code"], "bank_name": bank_name[:64] if isinstance(bank_name, str) else None,
        "card_number": row["card_number"], "card_mobile": row["mobile"]})


def _apply_recharge(conn, ledger: LedgerClient, row: dict, payload: dict, success: bool) -> None:
    if not success:
        return
    try:
        ledger.add(row["user_no"], row["request_no"], row["amount"])
    except NotFound:  # the wallet is created on opening; create it now if that call was lost
        ledger.create_account(row["user_no"], row["user_no"])
        ledger.add(row["user_no"], row["request_no"], row["amount"])


def _apply_withdraw(conn, ledger: LedgerClient, row: dict, payload: dict, success: bool) -> None:
    if success:
        return  # the hold taken when the request was made is the debit
    try:
        ledger.refund(row["user_no"], row["request_no"], row["amount"] + row["commission"])
    except NotFound:
        log.warning("withdraw %s failed with no hold in the ledger: nothing to refund", row["request_no"])


_LEDGER_SERVICES = ("RECHARGE", "WITHDRAW")
_APPLIERS = {"PERSONAL_REGISTER": _apply_register, "RECHARGE": _apply_recharge, "WITHDRAW": _apply_withdraw}
