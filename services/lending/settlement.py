"""Sending depository calls and settling their results, exactly once, whichever way a result comes.

A result arrives as the agent's answer (HTTP 200) or as its message on ``depository.gateway-notify``
(every final result is published, also the answered ones), possibly both, possibly more than once. A
call's row goes from pending to final in one conditional update, in the same transaction as all that
the result does (state changes, ledger postings, callbacks, follow-up calls), so only the first
arrival acts. A call without a final answer (202, an odd answer, no answer) is never guessed: it
stays pending and is sent again, identically, until its result is known.
"""
import logging

import psycopg

from shared.db import unit_of_work
from shared.contract import RESP_SUCCESS

from lending import disbursement, ledger_mirror, repayment
from lending.agent_client import AgentConflict, AgentSilent
from lending.messages import Malformed
from lending.repository import anomalies, calls

log = logging.getLogger(__name__)
CONSEQUENCES = {
    "project": disbursement.on_project,
    "project-status": disbursement.on_project_status,
    "tender": disbursement.on_tender,
    "tender-cancel": disbursement.on_tender_cancel,
    "loan": disbursement.on_loan,
    "repay-freeze": repayment.on_freeze,
    "repay-cancel": repayment.on_cancel,
    "repay-confirm": repayment.on_confirm,
}
CONFLICT_RETRY_SECONDS = 3600


def send_all(deps, request_nos: list[str], follow_up: bool = True) -> None:
    """Send each call (and, with ``follow_up``, whatever its result calls for next); a failure leaves the
    rest to the resend sweep."""
    for request_no in request_nos:
        try:
            send(deps, request_no, follow_up)
        except (psycopg.Error, OSError) as exc:
            log.warning("call %s not sent now (%s); the resend sweep will", request_no, exc)


def send(deps, request_no: str, follow_up: bool = True) -> None:
    """Send one pending call; settle it when the answer is final (sending its follow-ups at once with
    ``follow_up``, else leaving them to the resend sweep)."""
    with unit_of_work(deps.pool) as conn:
        call = calls.lease_for_send(conn, request_no, deps.config["CALL_RESEND_SECONDS"])
    if call is None:
        return  # settled meanwhile, or another process is sending it
    try:
        answer = deps.agent.call(call["service"], call["body"])
    except AgentSilent as exc:
        with unit_of_work(deps.pool) as conn:
            calls.note_silence(conn, request_no, str(exc))
        log.info("call %s %s: %s; it will be sent again", call["service"], request_no, exc)
        return
    except AgentConflict as exc:
        with unit_of_work(deps.pool) as conn:
            anomalies.record(conn, "call-conflict", request_no, str(exc))
            calls.note_silence(conn, request_no, str(exc), CONFLICT_RETRY_SECONDS)
        return
    if answer.final:
        settle(deps, request_no, answer.status, answer.resp_code, answer.resp_msg, follow_up)
    else:
        with unit_of_work(deps.pool) as conn:
            calls.note_silence(conn, request_no, "accepted, the bank has not answered yet (202)")


def settle(deps, request_no: str, status: int, resp_code: str, resp_msg: str, follow_up: bool = True) -> bool:
    """Apply a final result (1 success, 2 failure) once; False when it was applied before."""
    with unit_of_work(deps.pool) as conn:
        call = calls.finish(conn, request_no, status, resp_code, resp_msg)
        if call is None:
            return False
        follow_ups = CONSEQUENCES[call["purpose"]](conn, deps.config, call, status == calls.SUCCESS)
    log.info("call %s %s settled: %s %s", call["service"], request_no, "success" if status == 1 else "failure",
             resp_code)
    ledger_mirror.post_now(deps)
    if follow_up:
        send_all(deps, follow_ups)
    return True


def apply_result_message(deps, message: dict, domain: str) -> None:
    """A result from ``depository.gateway-notify``: settle the call it names when it belongs to
    ``domain``; a result for a call lending never made is recorded as an anomaly."""
    request_no, service, status = message.get("requestNo"), message.get("serviceName"), message.get("status")
    if not isinstance(request_no, str) or not isinstance(service, str) or status not in (0, 1, 2):
        raise Malformed("a depository result needs requestNo, serviceName and status 0, 1 or 2")
    with deps.pool.connection() as conn:
        call = calls.get(conn, request_no)
        if call is None:
            with conn.transaction():
                anomalies.record(conn, "unknown-result", request_no, f"{service} result for a call lending never made")
            return
    if call["domain"] != domain or status == 0:
        return  # the other result consumer's, or nothing final yet
    if call["service"] != service:
        raise Malformed(f"result of {service} for call {request_no}, which is a {call['service']}")
    if status == calls.SUCCESS and message.get("respCode") != RESP_SUCCESS:
        raise Malformed(f"result of {request_no}: status 1 with respCode {str(message.get('respCode'))[:20]!r}")
    settle(deps, request_no, status, str(message.get("respCode") or ""), str(message.get("respMsg") or ""))


def resend_due(deps, domain: str) -> int:
    """Send again every pending call of ``domain`` not answered finally within CALL_RESEND_SECONDS
    (and the ones created but never sent)."""
    with deps.pool.connection() as conn:
        due = calls.due(conn, domain, deps.config["JOB_BATCH"])
    send_all(deps, due)
    return len(due)
