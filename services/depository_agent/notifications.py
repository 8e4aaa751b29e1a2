"""Bank results: validate, then settle the record and write the outbox row in one statement.

The same statement and outcomes serve the bank's notifications at ``/gateway`` (in groups, see
group_settle.py) and compensation (:func:`settle`: the bank's answer to a query, or the expiry of a
request the bank never saw).
"""
import logging
import re
from dataclasses import dataclass

import psycopg

from shared.errors import BadRequest, Conflict, NotFound
from shared.logs import bind_request_id, current_request_id
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE
from shared.money import format_fen, parse_yuan
from shared.outbox import enqueue, message_row

from depository_agent import exception_store, outbox_store, record_store

log = logging.getLogger(__name__)

SUCCESS_CODE = "00000"
TRANSACTION_STATUS = {1: "SUCCESS", 2: "FAIL"}
_REQUEST_NO = re.compile(r"REQ_[0-9A-F]{32}")
# The amount exactly as the request carried it: yuan with two decimals, as a string.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,14})\.[0-9]{2}")
_AMOUNT_SERVICES = ("RECHARGE", "WITHDRAW")
_COMMON_FIELDS = ("requestNo", "respCode", "respMsg", "status")
RESULT_FIELDS = {"PERSONAL_REGISTER": frozenset(_COMMON_FIELDS + ("bankCode", "bankName")),
                 "RECHARGE": frozenset(_COMMON_FIELDS + ("transactionStatus", "amount")),
                 "WITHDRAW": frozenset(_COMMON_FIELDS + ("transactionStatus", "amount"))}

SETTLED, DUPLICATE, CONFLICTING = "SETTLED", "DUPLICATE", "CONFLICTING"


def _string(payload: dict, name: str, required: bool = True) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 256:
        raise BadRequest(f"reqData.{name} is required as a non-empty string")
    return value


def result_status(payload: dict) -> int:
    """The ``status`` of a bank result: the JSON integer 0, 1 or 2 (a string "1" would be stored and
    published as another value than the number, so it is refused)."""
    status = payload.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status in (0, 1, 2):
        return status
    raise BadRequest("reqData.status must be the number 1 (success) or 2 (failure)")


def check_result(service_name: str, payload: dict, from_bank: bool = True) -> tuple[str, int, int | None]:
    """Validate a final result's fields; return ``(requestNo, status, amount in fen or None)``.

    The success markers must agree: status 1 with respCode "00000" (and transactionStatus
    SUCCESS), status 2 with any other respCode (and FAIL). A bank's result carries exactly its
    service's fields (``from_bank``; the agent's own expiry result knows no bank name): a message
    must mean one thing only, so a field of another service, an unknown one or a missing one is refused.
    """
    if service_name not in RESULT_FIELDS:
        raise BadRequest(f"unknown serviceName {str(service_name)[:40]!r}")
    if from_bank and set(payload) != RESULT_FIELDS[service_name]:
        differences = sorted(set(payload) ^ RESULT_FIELDS[service_name])
        raise BadRequest(f"reqData must carry exactly a {service_name} result's fields; not so for: "
                         f"{', '.join(differences)[:200]}")
    request_no = _string(payload, "requestNo")
    if not _REQUEST_NO.fullmatch(request_no):
        raise BadRequest("reqData.requestNo must be REQ_ followed by 32 upper-case hex characters")
    status = result_status(payload)
    if status == 0:
        raise BadRequest("reqData.status must be final: 1 (success) or 2 (failure)")
    resp_code = _string(payload, "respCode")
    _string(payload, "respMsg", required=from_bank)
    if (resp_code == SUCCESS_CODE) != (status == 1):
        raise BadRequest(f"reqData.respCode {resp_code[:16]!r} contradicts status {status}")
    amount = None
    if service_name in _AMOUNT_SERVICES:
        if payload.get("transactionStatus") != TRANSACTION_STATUS[status]:
            raise BadRequest(f"reqData.transactionStatus must be {TRANSACTION_STATUS[status]} with status {status}")
        text = payload.get("amount")
        if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
            raise BadRequest('reqData.amount must be the amount as the request carried it: a string such as "100.00"')
        amount = parse_yuan(text, "reqData.amount", max_fen=10**15)
    elif status == 1 or from_bank:
        _string(payload, "bankCode")
        _string(payload, "bankName")
    return request_no, status, amount


def message_id(service_name: str, request_no: str) -> str:
    """The outbox / RabbitMQ message id of a request's result (consumers deduplicate by it)."""
    return f"{service_name}:{request_no}"


def _message(service_name: str, payload: dict) -> tuple:
    """The announcement of a settled result: ``(exchange, routing_key, body, message_id, headers)``.

    Its ``x-request-id`` header is the request id in force (the notification's X-Request-Id, or the
    compensation check's); a fresh one when none is.
    """
    return (GATEWAY_NOTIFY_EXCHANGE, service_name, {**payload, "serviceName": service_name},
            message_id(service_name, payload["requestNo"]), {"x-request-id": current_request_id() or bind_request_id()})


def publish_result(conn: psycopg.Connection, service_name: str, payload: dict) -> None:
    """Write the outbox row announcing a settled result, inside the caller's transaction."""
    enqueue(conn, *_message(service_name, payload))


def republish(conn: psycopg.Connection, record: dict) -> None:
    """Announce a final record's result again (reconciliation's repair when user-center missed it).

    The sent outbox row goes back to pending, so the relay publishes the same message again;
    a record settled before its outbox row existed gets a new one from its stored result.
    """
    if record["request_status"] == 0 or record["response_data"] is None:
        raise Conflict(f"{record['request_no']} has no final result to publish")
    if not outbox_store.requeue(conn, message_id(record["service_name"], record["request_no"])):
        publish_result(conn, record["service_name"], record["response_data"])


@dataclass(frozen=True)
class BankResult:
    """A verified, validated bank result ready to apply, with the outbox row announcing it."""

    service_name: str
    request_no: str
    status: int
    amount: int | None  # fen; None for PERSONAL_REGISTER (not checked)
    payload: dict
    source: str  # NOTIFICATION, QUERY or EXPIRED
    message: dict  # shared.outbox.message_row


def bank_result(service_name: str, payload: dict, source: str) -> BankResult:
    """Validate a result (4xx :class:`BadRequest` otherwise) and build its outbox row under the request id in force."""
    request_no, status, amount = check_result(service_name, payload, from_bank=source != "EXPIRED")
    return BankResult(service_name, request_no, status, amount, payload, source,
                      message_row(*_message(service_name, payload)))


def conclude(conn: psycopg.Connection, result: BankResult, record: dict | None) -> str:
    """The outcome of ``result`` from the record as :func:`record_store.apply_results` found it.

    Raises 404 for an unknown request and 409 when the result does not fit the record (nothing was
    changed). A result contradicting a final record opens a CONFLICTING_RESULT exception on ``conn``:
    a final status never changes again, so this needs no lock on the record.
    """
    if record is None:
        raise NotFound(f"unknown requestNo {result.request_no}")
    if record["service_name"] != result.service_name:
        raise Conflict(f"serviceName {result.service_name} does not match the request's {record['service_name']}")
    if result.amount is not None and result.amount != record["amount"]:
        raise Conflict(f"notified amount {format_fen(result.amount)} differs from the request's "
                       f"{format_fen(record['amount'])}")
    if record["settled"]:
        return SETTLED
    if record["request_status"] == result.status:
        return DUPLICATE
    exception_store.open_exception(
        conn, result.request_no, exception_store.CONFLICTING_RESULT,
        f"bank reported status {result.status} for a request already final with status {record['request_status']}",
        {"recordStatus": record["request_status"], "result": result.payload, "source": result.source})
    log.error("conflicting bank result for %s: record %s, bank %s (not applied; see exceptions list)",
              result.request_no, record["request_status"], result.status)
    return CONFLICTING


def settle(conn: psycopg.Connection, service_name: str, payload: dict, source: str) -> str:
    """Apply a verified bank result (one statement, atomic on its own; the caller may hold a transaction).

    Returns SETTLED (record moved from 0, outbox row written), DUPLICATE (already final with the
    same outcome: nothing changes) or CONFLICTING (final with the other outcome: recorded as an
    exception, never applied). Raises a 4xx error, changing nothing, when the result does not
    fit the record. ``/gateway`` applies its notifications in groups instead (group_settle.py).
    """
    result = bank_result(service_name, payload, source)
    [record] = record_store.apply_results(conn, [result])
    return conclude(conn, result, record)
