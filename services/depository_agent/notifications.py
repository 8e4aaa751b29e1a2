"""Bank results: verify, then settle the record and write the outbox row in one transaction.

The same :func:`settle` serves the bank's notifications at ``/gateway`` and compensation (the
bank's answer to a query, or the expiry of a request the bank never saw).
"""
import logging
import re

import psycopg

from shared.errors import BadRequest, Conflict, NotFound
from shared.logs import current_request_id
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE
from shared.money import format_fen, parse_yuan
from shared.outbox import enqueue

from depository_agent import exception_store, outbox_store, record_store

log = logging.getLogger(__name__)

SUCCESS_CODE = "00000"
TRANSACTION_STATUS = {1: "SUCCESS", 2: "FAIL"}
_REQUEST_NO = re.compile(r"REQ_[0-9A-F]{32}")
_AMOUNT_SERVICES = ("RECHARGE", "WITHDRAW")

SETTLED, DUPLICATE, CONFLICTING = "SETTLED", "DUPLICATE", "CONFLICTING"


def _string(payload: dict, name: str, required: bool = True) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 256:
        raise BadRequest(f"reqData.{name} is required as a non-empty string")
    return value


def result_status(payload: dict) -> int:
    """The ``status`` of a bank result as an int (the bank may send 1 or "1")."""
    status = payload.get("status")
    if isinstance(status, str) and status in ("0", "1", "2"):
        return int(status)
    if isinstance(status, int) and not isinstance(status, bool) and status in (0, 1, 2):
        return status
    raise BadRequest("reqData.status must be 1 (success) or 2 (failure)")


def check_result(service_name: str, payload: dict) -> tuple[str, int, int | None]:
    """Validate a final result's fields; return ``(requestNo, status, amount in fen or None)``.

    The success markers must agree: status 1 with respCode "00000" (and transactionStatus
    SUCCESS), status 2 with any other respCode (and FAIL).
    """
    request_no = _string(payload, "requestNo")
    if not _REQUEST_NO.fullmatch(request_no):
        raise BadRequest("reqData.requestNo must be REQ_ followed by 32 upper-case hex characters")
    status = result_status(payload)
    if status == 0:
        raise BadRequest("reqData.status must be final: 1 (success) or 2 (failure)")
    resp_code = _string(payload, "respCode")
    _string(payload, "respMsg", required=False)
    if (resp_code == SUCCESS_CODE) != (status == 1):
        raise BadRequest(f"reqData.respCode {resp_code[:16]!r} contradicts status {status}")
    amount = None
    if service_name in _AMOUNT_SERVICES:
        if payload.get("transactionStatus") != TRANSACTION_STATUS[status]:
            raise BadRequest(f"reqData.transactionStatus must be {TRANSACTION_STATUS[status]} with status {status}")
        amount = parse_yuan(payload.get("amount"), "reqData.amount", max_fen=10**15)
    elif status == 1:
        _string(payload, "bankCode")
        _string(payload, "bankName")
    return request_no, status, amount


def message_id(service_name: str, request_no: str) -> str:
    """The outbox / RabbitMQ message id of a request's result (consumers deduplicate by it)."""
    return f"{service_name}:{request_no}"


def publish_result(conn: psycopg.Connection, service_name: str, payload: dict) -> None:
    """Write the outbox row announcing a settled result, inside the caller's transaction."""
    request_id = current_request_id()
    enqueue(conn, GATEWAY_NOTIFY_EXCHANGE, service_name, {**payload, "serviceName": service_name},
            message_id=message_id(service_name, payload["requestNo"]),
            headers={"x-request-id": request_id} if request_id else None)


def republish(conn: psycopg.Connection, record: dict) -> None:
    """Announce a final record's result again (reconciliation's repair when user-center missed it).

    The sent outbox row goes back to pending, so the relay publishes the same message again;
    a record settled before its outbox row existed gets a new one from its stored result.
    """
    if record["request_status"] == 0 or record["response_data"] is None:
        raise Conflict(f"{record['request_no']} has no final result to publish")
    if not outbox_store.requeue(conn, message_id(record["service_name"], record["request_no"])):
        publish_result(conn, record["service_name"], record["response_data"])


def settle(conn: psycopg.Connection, service_name: str, payload: dict, source: str) -> str:
    """Apply a verified bank result inside the caller's transaction.

    Returns SETTLED (record moved from 0, outbox row written), DUPLICATE (already final with the
    same outcome: nothing changes) or CONFLICTING (final with the other outcome: recorded as an
    exception, never applied). Raises a 4xx error, changing nothing, when the result does not
    fit the record.
    """
    request_no, status, amount = check_result(service_name, payload)
    record = record_store.lock(conn, request_no)
    if record is None:
        raise NotFound(f"unknown requestNo {request_no}")
    if record["service_name"] != service_name:
        raise Conflict(f"serviceName {service_name} does not match the request's {record['service_name']}")
    if amount is not None and amount != record["amount"]:
        raise Conflict(f"notified amount {format_fen(amount)} differs from the request's {format_fen(record['amount'])}")
    if record["request_status"] == 0:
        record_store.finish(conn, record["id"], status, payload, source)
        publish_result(conn, service_name, payload)
        return SETTLED
    if record["request_status"] == status:
        return DUPLICATE
    exception_store.open_exception(
        conn, request_no, exception_store.CONFLICTING_RESULT,
        f"bank reported status {status} for a request already final with status {record['request_status']}",
        {"recordStatus": record["request_status"], "result": payload, "source": source})
    log.error("conflicting bank result for %s: record %s, bank %s (not applied; see exceptions list)",
              request_no, record["request_status"], status)
    return CONFLICTING
