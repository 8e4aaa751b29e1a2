"""Sending depository calls and settling their results, exactly once, whichever way a result comes.

A result arrives as the agent's answer (HTTP 200) or as its message on ``depository.gateway-notify``
(every final result is published, also the answered ones), possibly both, possibly more than once. A
call's row goes from pending to final in one conditional update, in the same transaction as all that
the result does (state changes, ledger postings, callbacks, follow-up calls), so only the first
arrival acts. A call without a final answer (202, an odd answer, no answer) is never guessed: it
stays pending and is sent again, identically, until its result is known.

The depository agent's transaction services (docs/lending.md, "What lending needs from the other
services"; service token, RestResponse) answer ``result`` = ``{requestNo, serviceName, status, respCode,
respMsg}``: HTTP 200 once the bank answered (status 1 success, 2 failure), 202 with status 0 while it
has not, 409 when the requestNo was used with another body. An answer that is none of these, or no answer at all, tells nothing: the call may still
land, so it is sent again later with the same requestNo and body, never guessed.
"""
import logging
from dataclasses import dataclass

import psycopg

from shared.contract import STATUS_FAILURE, STATUS_SUCCESS, SUCCESS_CODE, TRANSACTION_PATHS
from shared.db import unit_of_work
from shared.http import ServiceClient, ServiceUnreachable, json_object
from shared.messaging import NeverApplies

from lending import disbursement, ledger_mirror, repayment
from lending.repository import anomalies, calls

log = logging.getLogger(__name__)
AGENT_REFUSED = "AGENT_REFUSED"
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


@dataclass(frozen=True)
class CallAnswer:
    """What the agent said: ``status`` 1 success, 2 failure (both final), 0 pending."""

    status: int
    resp_code: str = ""
    resp_msg: str = ""

    @property
    def final(self) -> bool:
        return self.status in (STATUS_SUCCESS, STATUS_FAILURE)


class AgentSilent(Exception):
    """No usable answer: the call's outcome is unknown and it must be sent again."""


class AgentConflict(Exception):
    """409: the agent holds this requestNo with another body; an operator must look."""


class DepositoryAgent:
    """The agent's transaction services."""

    def __init__(self, base_url: str, config: dict):
        self.client = ServiceClient(base_url, config, timeout=config["SERVICE_TIMEOUT_SECONDS"])

    def call(self, service: str, body: dict) -> CallAnswer:
        """Send one transaction request; raises :class:`AgentSilent` or :class:`AgentConflict`."""
        try:
            response = self.client.post(TRANSACTION_PATHS[service], json=body)
        except ServiceUnreachable as exc:
            raise AgentSilent(f"no answer ({exc.kind})") from exc
        answer = json_object(response.content)
        result = answer.get("result") if isinstance(answer.get("result"), dict) else {}
        if response.status_code == 409:
            raise AgentConflict(f"requestNo {body['requestNo']} is held with another body: {answer.get('msg')}")
        if response.status_code == 400:
            # refused before it was recorded or signed: it never reached the bank and never will
            return CallAnswer(STATUS_FAILURE, AGENT_REFUSED,
                              str(answer.get("msg") or "refused by the depository agent")[:200])
        if result.get("requestNo") != body["requestNo"] or result.get("serviceName") != service:
            raise AgentSilent(f"HTTP {response.status_code} without this call's result")
        status = result.get("status")
        if response.status_code == 200 and answer.get("code") == 0 and status in (STATUS_SUCCESS, STATUS_FAILURE):
            return CallAnswer(status, str(result.get("respCode") or ""), str(result.get("respMsg") or "")[:200])
        if response.status_code == 202 and status == calls.PENDING:
            return CallAnswer(calls.PENDING)
        raise AgentSilent(f"HTTP {response.status_code} with status {status!r}")


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
        follow_ups = CONSEQUENCES[call["purpose"]](conn, deps.config, call, status == STATUS_SUCCESS)
    log.info("call %s %s settled: %s %s", call["service"], request_no,
             "success" if status == STATUS_SUCCESS else "failure",
             resp_code)
    ledger_mirror.post_now(deps)
    if follow_up:
        send_all(deps, follow_ups)
    return True


def apply_result_message(deps, message: dict, domain: str) -> None:
    """A result from ``depository.gateway-notify``: settle the call it names when it belongs to
    ``domain``; a result for a call lending never made is recorded as an anomaly."""
    request_no, service, status = message.get("requestNo"), message.get("serviceName"), message.get("status")
    if not isinstance(request_no, str) or not isinstance(service, str) or status not in (
            calls.PENDING, STATUS_SUCCESS, STATUS_FAILURE):
        raise NeverApplies("a depository result needs requestNo, serviceName and status 0, 1 or 2")
    with deps.pool.connection() as conn:
        call = calls.get(conn, request_no)
        if call is None:
            with conn.transaction():
                anomalies.record(conn, "unknown-result", request_no, f"{service} result for a call lending never made")
            return
    if call["domain"] != domain or status == calls.PENDING:
        return  # the other result consumer's, or nothing final yet
    if call["service"] != service:
        raise NeverApplies(f"result of {service} for call {request_no}, which is a {call['service']}")
    if status == STATUS_SUCCESS and message.get("respCode") != SUCCESS_CODE:
        raise NeverApplies(f"result of {request_no}: status 1 with respCode {str(message.get('respCode'))[:20]!r}")
    settle(deps, request_no, status, str(message.get("respCode") or ""), str(message.get("respMsg") or ""))


def resend_due(deps, domain: str) -> int:
    """Send again every pending call of ``domain`` not answered finally within CALL_RESEND_SECONDS
    (and the ones created but never sent)."""
    with deps.pool.connection() as conn:
        due = calls.due(conn, domain, deps.config["JOB_BATCH"])
    send_all(deps, due)
    return len(due)
