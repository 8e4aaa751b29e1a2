"""Signed gateway requests: store the depository_record first, then sign; idempotent by requestNo.

Every request carries ``timestamp`` (when it was first signed) and ``expired`` (timestamp +
GATEWAY_REQUEST_TTL_SECONDS), after which the bank refuses it. Both are stored with the record, so a
replay of the same requestNo and body answers the very same GatewayRequest, expiry included.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from psycopg_pool import ConnectionPool

from shared.errors import Conflict
from shared.money import format_fen, parse_yuan
from shared.signing import wanxin_time

from depository_agent.repository import records
from depository_agent.wanxin import SERVICE_NAMES, WanxinCodec

_ZERO = re.compile(r"0(\.0{1,2})?")
EXPIRY_FIELDS = ("timestamp", "expired")


@dataclass(frozen=True)
class RequestKind:
    """One kind of gateway request: its record type and the fields signed, in docs/protocols.md's order."""

    request_type: str
    object_type: str
    fields: tuple[str, ...]

    @property
    def service_name(self) -> str:
        return SERVICE_NAMES[self.request_type]


CONSUMER_CREATE = RequestKind("CONSUMER_CREATE", "CONSUMER", (
    "requestNo", "userNo", "fullname", "idNumber", "bankCode", "cardNumber", "mobile", "role", "callbackUrl"))
RECHARGE = RequestKind("RECHARGE", "RECHARGE_RECORD", ("requestNo", "userNo", "amount", "callbackUrl"))
WITHDRAW = RequestKind("WITHDRAW", "WITHDRAW_RECORD", (
    "requestNo", "userNo", "amount", "commission", "cardNumber", "mobile", "callbackUrl"))


def parse_commission(value: str, max_fen: int) -> int:
    """A withdraw commission in fen: like an amount, except that zero is allowed."""
    return 0 if _ZERO.fullmatch(value) else parse_yuan(value, "commission", max_fen)


def build_record(kind: RequestKind, body: dict, max_fen: int) -> dict:
    """The depository_record for a validated request body; amounts are normalised to "100.00"."""
    amount = parse_yuan(body["amount"], "amount", max_fen) if "amount" in kind.fields else None
    commission = parse_commission(body["commission"], max_fen) if "commission" in kind.fields else None
    payload = {name: body[name] for name in kind.fields}
    if amount is not None:
        payload["amount"] = format_fen(amount)
    if commission is not None:
        payload["commission"] = format_fen(commission)
    return {
        "request_no": body["requestNo"],
        "request_type": kind.request_type,
        "service_name": kind.service_name,
        "object_type": kind.object_type,
        "object_id": body["userNo"] if kind is CONSUMER_CREATE else body["requestNo"],
        "user_no": body["userNo"],
        "amount": amount,
        "commission": commission,
        "request_data": payload,
    }


def stamp(record: dict, signed_at: datetime, ttl_seconds: int) -> dict:
    """``record`` with ``timestamp`` and ``expired`` added to its request (after the service's fields)
    and the expiry as ``expires_at``; ``signed_at`` is cut to the second the text can carry."""
    signed_at = signed_at.replace(microsecond=0)
    expires_at = signed_at + timedelta(seconds=ttl_seconds)
    request_data = {**record["request_data"], "timestamp": wanxin_time(signed_at), "expired": wanxin_time(expires_at)}
    return {**record, "request_data": request_data, "expires_at": expires_at}


def _without_expiry(request_data: dict) -> dict:
    return {name: value for name, value in request_data.items() if name not in EXPIRY_FIELDS}


def record_request(pool: ConnectionPool, record: dict, ttl_seconds: int) -> tuple[dict, dict]:
    """Store ``record`` stamped now (unless its requestNo is stored already): ``(stored row, the JSON to sign)``.

    The JSON is the request's fields in their protocol order with the times first stored, so the same
    requestNo with the same content is signed into the very same bytes; with other content (or for
    another request type) it is a :class:`Conflict`. The row is committed before anything is signed.
    """
    record = stamp(record, datetime.now(timezone.utc), ttl_seconds)
    with pool.connection() as conn:  # one insert, committed on its own (or the read of the row stored before)
        stored = records.insert_or_get(conn, record)
    fields = _without_expiry(record["request_data"])
    if stored["request_type"] != record["request_type"] or _without_expiry(stored["request_data"]) != fields:
        raise Conflict(f"requestNo {record['request_no']} was already used for a different request")
    # The protocol's field order (jsonb sorts keys), with the times first stored.
    return stored, {**fields, **{name: stored["request_data"][name] for name in EXPIRY_FIELDS}}


def create_gateway_request(pool: ConnectionPool, codec: WanxinCodec, kind: RequestKind, body: dict,
                           max_fen: int, ttl_seconds: int) -> dict:
    """Record the request (or find the one already recorded) and return its signed GatewayRequest
    (:func:`record_request`: the same requestNo and content, the same GatewayRequest)."""
    _, payload = record_request(pool, build_record(kind, body, max_fen), ttl_seconds)
    return codec.gateway_request(kind.service_name, payload)
