"""The transaction services of section 9 (projects, freezes, cancels, loans, repayments): record, sign, send
to the bank's ``POST /service``, believe only its verified answer (docs/depository_agent.md).

A call stores its depository_record (committed) before it signs, exactly as a gateway request does
(:func:`gateway_requests.record_request`: the same requestNo and content, the same signed bytes; other
content, 409). The bank's answer is settled with its outbox row in one statement (the group settler
of the bank's notifications, :mod:`group_settle`, source ANSWER), so the result is published once
however many callers or compensation passes meet it. No row is locked while the bank is asked. When no verified answer comes
(timeout, lost connection, an unsigned refusal, a forged or garbled answer), the record stays pending:
the caller gets 202 and compensation settles it from the bank's signed ``/service/query``. A repeat of a
pending call asks the bank again (the bank answers a recorded requestNo with its recorded result).
"""
import logging

from psycopg_pool import ConnectionPool

from shared import contract
from shared.errors import AppError, BadRequest
from shared.money import format_fen, parse_yuan

from depository_agent import gateway_requests
from depository_agent.bank_client import BankService
from depository_agent.group_settle import GroupSettler
from depository_agent.notifications import ANSWER, DUPLICATE, SETTLED
from depository_agent.repository import records
from depository_agent.wanxin import WanxinCodec

log = logging.getLogger(__name__)

ANSWERED, PENDING = 200, 202  # the HTTP status of a final result and of a call still waiting for the bank
PENDING_MESSAGE = "the bank has not answered yet; the result will be published when it is known"
_POSITIVE = ("amount", "projectAmount")
_MAY_BE_ZERO = ("commission", "interest")
# Within one confirmation a freeze (loan) or a funder (repayment) appears once, as the bank requires.
_DETAIL_KEY = {contract.CONFIRM_LOAN: "preRequestNo", contract.CONFIRM_REPAYMENT: "userNo"}
# The object a record is about: (object_type, the body field naming it).
_OBJECTS = {contract.CREATE_PROJECT: ("PROJECT", "projectNo"), contract.MODIFY_PROJECT: ("PROJECT", "projectNo"),
            contract.PRE_TRANSACTION: ("PRE_TRANSACTION", "requestNo"),
            contract.CANCEL_PRE_TRANSACTION: ("PRE_TRANSACTION", "preRequestNo"),
            contract.CONFIRM_LOAN: ("PROJECT", "projectNo"), contract.CONFIRM_REPAYMENT: ("PROJECT", "projectNo")}


def _amounts(fields: dict, max_fen: int, where: str = "") -> dict[str, int]:
    """The amounts of ``fields`` in fen; the fields themselves rewritten in the one form the bank takes."""
    fen = {}
    for name in _POSITIVE + _MAY_BE_ZERO:
        if name in fields:
            label = f"{where}{name}"
            fen[name] = (parse_yuan(fields[name], label, max_fen) if name in _POSITIVE
                         else gateway_requests.parse_commission(fields[name], max_fen))
            fields[name] = format_fen(fen[name])
    return fen


def _details(service_name: str, details: list, max_fen: int) -> tuple[list[dict], int]:
    """The details in their protocol order and form, and what they pay in fen (amount + interest)."""
    names, key = contract.TRANSACTION_DETAIL_FIELDS[service_name], _DETAIL_KEY[service_name]
    ordered, total, seen = [], 0, set()
    for index, detail in enumerate(details):
        entry = {name: detail[name] for name in names}
        total += sum(_amounts(entry, max_fen, f"details[{index}].").values())
        if entry[key] in seen:
            raise BadRequest(f"details[{index}].{key} {entry[key]} is given twice")
        seen.add(entry[key])
        ordered.append(entry)
    return ordered, total


def build_record(service_name: str, body: dict, max_fen: int) -> dict:
    """The depository_record of a validated request body: its JSON in the protocol's field order with amounts
    written "100.00"; ``amount`` the money it concerns in fen (a project's amount, a freeze's or cancel's,
    what a confirmation pays out), ``commission`` a confirmation's."""
    payload = {name: body[name] for name in contract.TRANSACTION_REQUEST_FIELDS[service_name]}
    fen = _amounts(payload, max_fen)
    amount = fen.get("amount", fen.get("projectAmount"))
    if "details" in payload:
        payload["details"], amount = _details(service_name, payload["details"], max_fen)
    object_type, object_field = _OBJECTS[service_name]
    return {
        "request_no": body["requestNo"],
        "request_type": service_name,
        "service_name": service_name,
        "object_type": object_type,
        "object_id": payload[object_field],
        "user_no": payload.get("userNo"),
        "amount": amount,
        "commission": fen.get("commission"),
        "request_data": payload,
    }


def call(pool: ConnectionPool, codec: WanxinCodec, bank: BankService, settler: GroupSettler, service_name: str,
         body: dict, max_fen: int, ttl_seconds: int) -> tuple[int, dict]:
    """Record, sign and send one request (or answer the recorded result): ``(ANSWERED or PENDING, result)``.
    The bank's answer is settled through ``settler``, with whatever other answers and notifications are being
    settled at the same moment (one statement, one commit: group_settle.py).

    Raises :class:`shared.errors.Conflict` for a requestNo used with other content or another service,
    :class:`BadRequest` for amounts the schema's form lets through but the range does not.
    """
    stored, payload = gateway_requests.record_request(pool, build_record(service_name, body, max_fen), ttl_seconds)
    if stored["request_status"] == 0:
        stored = _ask_bank(pool, codec, bank, settler, stored, payload)
    return answer(stored)


def _ask_bank(pool: ConnectionPool, codec: WanxinCodec, bank: BankService, settler: GroupSettler, record: dict,
              payload: dict) -> dict:
    """Send the signed request; settle the bank's verified answer; the record as it is afterwards."""
    request_no, service_name = record["request_no"], record["service_name"]
    reply = bank.send(codec.signed_request(service_name, payload))
    if reply is None:
        return record
    try:
        result = codec.open_answer(reply)
        if result.get("requestNo") != request_no:
            raise BadRequest(f"the answer is about {str(result.get('requestNo'))[:40]!r}")
        outcome = settler.settle(service_name, result, ANSWER)
    except AppError as exc:  # unsigned, forged, garbled, about another request; or the database unavailable
        log.warning("the bank's answer to %s %s is not settled (%s); compensation's query will", service_name,
                    request_no, exc.msg)
        return record
    if outcome in (SETTLED, DUPLICATE):  # the record now holds this result (the bank gives one per requestNo)
        return {**record, "request_status": result["status"], "response_data": result}
    with pool.connection() as conn:  # final with another result before this answer came: that one stands
        return records.get(conn, request_no)


def answer(record: dict) -> tuple[int, dict]:
    """A record's answer to its caller: the final result (ANSWERED) or status 0 (PENDING)."""
    result = {"requestNo": record["request_no"], "serviceName": record["service_name"],
              "status": record["request_status"]}
    if record["request_status"] == 0:
        return PENDING, {**result, "respCode": "", "respMsg": PENDING_MESSAGE}
    stored = record["response_data"]
    return ANSWERED, {**result, "respCode": stored["respCode"], "respMsg": stored["respMsg"]}
