"""Bank results: validate, then settle the record and write the outbox row in one statement.

The same statement and outcomes serve the bank's notifications at ``/gateway`` (in groups, see
group_settle.py) and compensation (:func:`settle`: the bank's answer to a query, or the expiry of a
request the bank never saw). What a result must carry, and the message announcing it, are
:mod:`shared.contract`'s (docs/protocols.md), which user-center's consumer validates with too.
"""
import logging
from dataclasses import dataclass

import psycopg

from shared import contract
from shared.errors import BadRequest, Conflict, NotFound
from shared.logs import bind_request_id, current_request_id
from shared.money import format_fen
from shared.outbox import enqueue, message_row

from depository_agent.repository import exceptions, outbox, records

log = logging.getLogger(__name__)

SETTLED, DUPLICATE, CONFLICTING = "SETTLED", "DUPLICATE", "CONFLICTING"
# Where a result came from (result_source): the bank's notification, its query answer, the agent's expiry
# result, or the bank's direct answer to a transaction service.
NOTIFICATION, QUERY, EXPIRED, ANSWER = "NOTIFICATION", "QUERY", "EXPIRED", "ANSWER"
RESULT_SOURCES = (NOTIFICATION, QUERY, EXPIRED, ANSWER)


def result_status(payload: dict) -> int:
    """The ``status`` of a bank result or query answer, 0, 1 or 2 (:func:`shared.contract.result_status`);
    a 400 :class:`BadRequest` otherwise."""
    try:
        return contract.result_status(payload)
    except contract.InvalidResult as exc:
        raise BadRequest(f"invalid bank result: {exc}") from None


def check_result(service_name: str, payload: dict, source: str = NOTIFICATION) -> contract.GatewayResult:
    """Validate a final result with :func:`shared.contract.check_result` (the agent's own expiry result
    allowed when ``source`` is EXPIRED); a 400 :class:`BadRequest` naming the field otherwise."""
    try:
        return contract.check_result(service_name, payload, expiry=source == EXPIRED)
    except contract.InvalidResult as exc:
        raise BadRequest(f"invalid bank result: {exc}") from None


def _message(result: contract.GatewayResult) -> tuple:
    """The announcement of a settled result: ``(exchange, routing_key, body, message_id, headers)``.

    Its ``x-request-id`` header is the request id in force (the notification's X-Request-Id, or the
    compensation check's); a fresh one when none is.
    """
    return (contract.GATEWAY_NOTIFY_EXCHANGE, result.service_name, result.message_body(), result.message_id,
            {"x-request-id": current_request_id() or bind_request_id()})


def republish(conn: psycopg.Connection, record: dict) -> None:
    """Announce a final record's result again (reconciliation's repair when user-center missed it).

    The sent outbox row goes back to pending, so the relay publishes the same message again;
    a record settled before its outbox row existed gets a new one from its stored result (validated
    again, so that nothing is published that user-center would refuse).
    """
    if record["request_status"] == 0 or record["response_data"] is None:
        raise Conflict(f"{record['request_no']} has no final result to publish")
    if not outbox.requeue(conn, contract.result_message_id(record["service_name"], record["request_no"])):
        enqueue(conn, *_message(check_result(record["service_name"], record["response_data"], EXPIRED)))


@dataclass(frozen=True)
class BankResult:
    """A verified, validated bank result ready to apply, with the outbox row announcing it."""

    result: contract.GatewayResult
    source: str  # NOTIFICATION, QUERY or EXPIRED
    message: dict  # shared.outbox.message_row

    @property
    def request_no(self) -> str:
        return self.result.request_no


def bank_result(service_name: str, payload: dict, source: str) -> BankResult:
    """Validate a result (4xx :class:`BadRequest` otherwise) and build its outbox row under the request id in force."""
    result = check_result(service_name, payload, source)
    return BankResult(result, source, message_row(*_message(result)))


def conclude(conn: psycopg.Connection, bank: BankResult, record: dict | None) -> str:
    """The outcome of ``bank`` from the record as :func:`records.apply_results` found it.

    Raises 404 for an unknown request and 409 when the result does not fit the record (nothing was
    changed). A result contradicting a final record opens a CONFLICTING_RESULT exception on ``conn``:
    a final status never changes again, so this needs no lock on the record.
    """
    result = bank.result
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
    exceptions.open_exception(
        conn, result.request_no, exceptions.CONFLICTING_RESULT,
        f"bank reported status {result.status} for a request already final with status {record['request_status']}",
        {"recordStatus": record["request_status"], "result": result.fields, "source": bank.source})
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
    bank = bank_result(service_name, payload, source)
    [record] = records.apply_results(conn, [bank])
    return conclude(conn, bank, record)
