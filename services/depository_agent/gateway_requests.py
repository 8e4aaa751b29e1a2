"""Signed gateway requests: store the depository_record first, then sign; idempotent by requestNo."""
import re
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from shared.db import unit_of_work
from shared.errors import Conflict
from shared.money import format_fen, parse_yuan

from depository_agent import record_store
from depository_agent.wanxin import SERVICE_NAMES, WanxinCodec

_ZERO = re.compile(r"0(\.0{1,2})?")


@dataclass(frozen=True)
class RequestKind:
    """One kind of gateway request: its record type and the fields signed, in the SPEC's order."""

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


def create_gateway_request(pool: ConnectionPool, codec: WanxinCodec, kind: RequestKind, body: dict,
                           max_fen: int) -> dict:
    """Record the request (or find the one already recorded) and return its signed GatewayRequest.

    The same requestNo with the same content returns the same GatewayRequest (the signature is
    deterministic); with different content it is a :class:`Conflict`.
    """
    record = build_record(kind, body, max_fen)
    with unit_of_work(pool) as conn:
        stored = record_store.insert_or_get(conn, record)
    if stored["request_type"] != kind.request_type or stored["request_data"] != record["request_data"]:
        raise Conflict(f"requestNo {record['request_no']} was already used for a different request")
    return codec.gateway_request(kind.service_name, record["request_data"])  # SPEC field order; jsonb sorts keys
