"""``POST /service``: the transaction services, answered at once and signed (docs/bank_sandbox.md,
"Transaction services").

One transaction per request, serialized per requestNo: a requestNo the bank has recorded is answered
with its recorded result (the same content again: the same answer and nothing more moves; other
content: 20008; a gateway request's requestNo: an unsigned 409), even after the request's expiry, so
the bank never gives two results for one requestNo. A new request is then checked at the database's
clock (20007 once expired, 00003 malformed: answered signed, recorded nowhere), recorded, and run by
its service inside a savepoint: a refusal rolls back whatever the service had done, and the request is
recorded with its result, success or failure, in the same transaction. The fault knobs for answers
then apply to the new result (:mod:`bank_sandbox.faults`).

A freeze (USER_AUTO_PRE_TRANSACTION) whose fields are all in their formats takes the same steps in one
database function (sql/01_freeze.sql), one round trip; any other request goes through the steps above.
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from shared import contract
from shared.db import unit_of_work
from shared.db import single_statement
from shared.errors import BadRequest, Conflict

from bank_sandbox import faults, loans, pre_transactions, projects, repayments, service_requests
from bank_sandbox.repository import pre_transactions as stored_freezes
from bank_sandbox.repository import requests
from bank_sandbox.service_results import SUCCESS, Refused, result_json, signed_answer

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

SERVICES = {
    contract.CREATE_PROJECT: projects.create,
    contract.MODIFY_PROJECT: projects.modify,
    contract.CANCEL_PRE_TRANSACTION: pre_transactions.cancel,
    contract.CONFIRM_LOAN: loans.confirm,
    contract.CONFIRM_REPAYMENT: repayments.confirm,
}
RECORDED, NOT_RECORDED, REUSED = 200, 400, 409  # the HTTP status of each kind of answer
_LIFETIME = set(contract.REQUEST_TIME_FIELDS)
_LONG_AGO = datetime.min.replace(tzinfo=timezone.utc)  # a clock at which no request has expired


@dataclass(frozen=True)
class Answer:
    """The bank's signed answer ``{respData, signature}``, its HTTP status, the result it carries, and the
    fault knobs' decision for it (None: answer normally)."""

    status: int
    body: dict
    result: dict
    fault: faults.AnswerFault | None = None


def serve(pool, config: dict, keys: "Keys", service_name: str, platform_no: str, req_data: str,
          signature: str) -> Answer:
    """Verify, record and run one request; :class:`shared.errors.BadRequest` (unsigned) when it is not the
    platform's request for ``service_name``."""
    payload = service_requests.authenticate(config, keys, platform_no, service_name, req_data, signature)
    request_no = service_requests.request_no_of(payload)
    try:
        freeze = _well_formed_freeze(config, service_name, platform_no, payload) if request_no else None
        if freeze is not None:
            status, result, fault = _freeze(pool, config, freeze)
        else:
            with unit_of_work(pool) as conn:
                status, result, fault = _run(conn, config, service_name, platform_no, payload, request_no)
    except Refused as refusal:  # checked before anything was recorded
        status, result, fault = NOT_RECORDED, result_json(request_no or "", refusal.result), None
    return Answer(status, signed_answer(config, keys, result), result, fault)


def _well_formed_freeze(config: dict, service_name: str, platform_no: str,
                        payload: dict) -> service_requests.ServiceRequest | None:
    """A freeze whose checks all pass but the expiry's (made at the database's clock in the same call);
    None for any other request, which :func:`_run` checks in the contract's order after its repeat."""
    if service_name != contract.PRE_TRANSACTION:
        return None
    try:
        return service_requests.check(config, service_name, platform_no, payload, _LONG_AGO)
    except (BadRequest, Refused):
        return None


def _freeze(pool, config: dict, request: service_requests.ServiceRequest):
    """:func:`_run` for a well-formed freeze, in one round trip (the expiry's refusal is raised here)."""
    with single_statement(pool) as conn:
        row = stored_freezes.freeze(conn, request.request_no, request.platform_no, request.payload,
                                    request.expires_at, request.fields)
    if row["outcome"] == "recorded":
        return (*_repeated(row["recorded"], request.payload), None)
    if row["outcome"] == "expired":  # the contract's own 20007 refusal, not recorded
        service_requests.check(config, request.service_name, request.platform_no, request.payload,
                               row["checked_at"])
    result = result_json(request.request_no, (row["resp_code"], row["resp_msg"]))
    return RECORDED, result, faults.answer_fault(faults.effective(config, row["faults"]))


def _run(conn, config: dict, service_name: str, platform_no: str, payload: dict, request_no: str | None):
    if request_no is not None:
        requests.serialize_on(conn, request_no)
        row = requests.get(conn, request_no)
        if row is not None:
            return (*_repeated(row, payload), None)
    request = service_requests.check(config, service_name, platform_no, payload, requests.now(conn))
    if not requests.insert_service_request(conn, service_name, platform_no, payload.get("userNo"), payload,
                                           request.expires_at):
        return (*_repeated(requests.get(conn, request_no), payload), None)  # recorded by the gateway meanwhile
    try:
        with conn.transaction():
            SERVICES[service_name](conn, config, request)
        outcome = SUCCESS
    except Refused as refusal:
        outcome = refusal.result
    result = result_json(request_no, outcome)
    requests.finish(conn, request_no, result["status"], *outcome, result)
    return RECORDED, result, faults.answer_fault(faults.current(conn, config))


def _repeated(row: dict, payload: dict) -> tuple[int, dict]:
    """The answer to a requestNo already recorded: its result when the content is the same (the lifetime
    aside: a request signed again with a new timestamp is the same request), 20008 otherwise. The
    requestNo of a gateway request is refused unsigned: the bank never signs a transaction service's
    result about it (its gateway request travels through browsers, whoever holds it could ask)."""
    if row["service_name"] not in contract.TRANSACTION_SERVICES:
        raise Conflict(f"requestNo {row['request_no']} is a {row['service_name']} request, not a transaction"
                       " service's")
    if _content(row["payload"]) == _content(payload):
        return RECORDED, recorded_result(row)
    return REUSED, result_json(row["request_no"], (contract.RESP_REQUEST_NO_REUSED,
                                                   f"requestNo {row['request_no']} was already used for another"
                                                   " request"))


def recorded_result(row: dict) -> dict:
    """The result recorded for a transaction service's request, its fields in their order (the same bytes,
    and so the same signature, as when it was first answered)."""
    return result_json(row["request_no"], (row["resp_code"], row["resp_msg"]), row["status"])


def _content(payload: dict) -> dict:
    return {name: value for name, value in payload.items() if name not in _LIFETIME}
