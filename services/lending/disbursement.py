"""From an approved borrow to money in the borrower's depository account, and what each result does.

- audit-result consumer: the risk review's decision moves the borrow 0 -> 10; refused: 10 -> 27 with a
  loan.rejected callback (7003); approved: the project is created at the bank (CREATE_PROJECT), and
  its success moves 10 -> 20.
- disburse job: 20 (or 31 once its retry is due) -> 13 with a TENDER freeze of the whole amount from a
  funder (FUNDER_USER_NOS or FUNDER_USER_NOS_FILE, taken in turn per attempt). Freeze succeeded: CONFIRM_LOAN with commission =
  the service fee. Loan confirmed: 13 -> 30 (see :func:`on_loan`). Freeze or loan failed: 13 -> 31,
  retried after a capped back-off; a failed loan's freeze is cancelled first.
- Ledger mirror: the freeze is a deduct from the funder (trade_no = the freeze's requestNo), its
  cancellation the refund of that deduct, the confirmed loan an add of amount − fee to the borrower and
  an add of the fee to the platform (trade_no = the confirmation's requestNo). Each is recorded with the
  result it mirrors, never before: a call that timed out may still land, and only its result says so.
"""
import logging
from datetime import timedelta

from shared.backoff import backoff
from shared.contract import MISCARRY, REPAYING, TENDER
from shared.db import unit_of_work
from shared.errors import Conflict, NotFound
from shared.messaging import NeverApplies

from lending import config as lending_config
from lending import depository_calls, loans, partner_callbacks, schedules
from lending.repository import anomalies, borrows, calls, plans, postings, transaction_time
from lending.repository.borrows import APPROVED, CREATED, DISBURSE_FAILED, DISBURSED, DISBURSING, IN_REVIEW, REFUSED

log = logging.getLogger(__name__)


def apply_review(deps, decision: dict) -> list[str]:
    """The audit-result consumer: 0 -> 10, then 27 (refused) or the project's creation (approved).
    Returns the calls to send. A decision for a borrow no longer at 0 (a repeat) changes nothing."""
    borrow_no, approved, reasons = decision.get("borrowNo"), decision.get("approved"), decision.get("reasons")
    if not isinstance(borrow_no, str) or not isinstance(approved, bool) or not isinstance(reasons, list):
        raise NeverApplies("an audit decision needs borrowNo, approved and reasons")
    with unit_of_work(deps.pool) as conn:
        borrow = borrows.by_borrow_no(conn, borrow_no, lock=True)
        if borrow is None:
            raise NeverApplies(f"audit decision for unknown borrow {borrow_no}")
        if borrow["status"] != CREATED:
            return []
        reason = "; ".join(map(str, reasons))[:500] or None
        borrow = borrows.advance(conn, borrow["id"], (CREATED,), IN_REVIEW, review_approved=approved,
                                 review_reason=reason)
        if not approved:
            borrows.advance(conn, borrow["id"], (IN_REVIEW,), REFUSED, reject_reason="refused by the risk review")
            partner_callbacks.loan_rejected(conn, borrow["order_no"], "refused by the risk review")
            return []
        return [depository_calls.create_project(conn, borrow)]


def start_due(deps) -> list[str]:
    """The disburse job: start every approved borrow and every failed one whose retry is due (skip locked)."""
    config, funders = deps.config, lending_config.funders(deps.config)
    started = []
    with unit_of_work(deps.pool) as conn:
        for borrow in borrows.lock_due_for_disbursement(conn, config["JOB_BATCH"]):
            if not funders:
                borrows.update(conn, borrow["id"], last_error="no funder configured (FUNDER_USER_NOS or _FILE)",
                               next_attempt_at=_later(conn, config["DISBURSE_RETRY_MAX_SECONDS"]))
                log.error("borrow %s waits: no funder configured", borrow["borrow_no"],
                          extra={"fields": {"alert": "lending-no-funder"}})
                continue
            funder = funders[borrow["disburse_attempts"] % len(funders)]
            request_no = depository_calls.freeze(conn, "tender", borrow, funder, borrow["amount"], TENDER)
            borrows.advance(conn, borrow["id"], (APPROVED, DISBURSE_FAILED), DISBURSING, funder_user_no=funder,
                            current_tender=request_no, disburse_attempts=borrow["disburse_attempts"] + 1,
                            last_error=None)
            started.append(request_no)
    return started


def on_project(conn, config: dict, call: dict, success: bool) -> list[str]:
    borrow = borrows.by_id(conn, call["borrow_id"], lock=True)
    if success:
        borrows.advance(conn, borrow["id"], (IN_REVIEW,), APPROVED)
    else:
        anomalies.record(conn, "project-refused", borrow["borrow_no"],
                         f"CREATE_PROJECT {call['request_no']} refused: {call['resp_code']} {call['resp_msg']}; "
                         "the borrow waits at 10 for an operator (reject it, or fix and retry)")
    return []


def on_project_status(conn, config: dict, call: dict, success: bool) -> list[str]:
    if not success:
        anomalies.record(conn, "project-status-refused", call["request_no"], f"{call['resp_code']} {call['resp_msg']}")
    return []


def on_tender(conn, config: dict, call: dict, success: bool) -> list[str]:
    """A funder's freeze: mirrored as a deduct; then the loan is confirmed, or the freeze cancelled when
    the borrow has moved on (an operator refused it, or this attempt was superseded)."""
    borrow = borrows.by_id(conn, call["borrow_id"], lock=True)
    current = borrow["status"] == DISBURSING and borrow["current_tender"] == call["request_no"]
    if success:
        postings.record(conn, postings.DEDUCT, call["user_no"], call["request_no"], call["amount"])
        if current:
            return [depository_calls.confirm_loan(conn, borrow, call)]
        return depository_calls.cancel(conn, call, borrow)
    if current:
        _retry_later(conn, config, borrow,
                     f"freeze {call['request_no']} failed: {call['resp_code']} {call['resp_msg']}")
    return []


def on_tender_cancel(conn, config: dict, call: dict, success: bool) -> list[str]:
    if success:
        postings.record(conn, postings.REFUND, call["user_no"], call["pre_request_no"], call["amount"])
    else:
        anomalies.record(conn, "cancel-refused", call["pre_request_no"],
                         f"CANCEL_PRE_TRANSACTION {call['request_no']} refused: {call['resp_code']} {call['resp_msg']}")
    return []


def on_loan(conn, config: dict, call: dict, success: bool) -> list[str]:
    """The loan-result consumer: confirmed, the borrow is disbursed (13 -> 30), the plan generated and
    the loan.succeeded callback written with it, all in this transaction; refused, the freeze is
    cancelled and the disbursement retried (13 -> 31)."""
    borrow = borrows.by_id(conn, call["borrow_id"], lock=True)
    if not success:
        tender = calls.get(conn, call["pre_request_no"])
        _retry_later(conn, config, borrow, f"loan {call['request_no']} failed: {call['resp_code']} {call['resp_msg']}")
        return depository_calls.cancel(conn, tender, borrow)
    fee = borrow["service_fee"]
    postings.record(conn, postings.ADD, borrow["user_no"], call["request_no"], borrow["amount"] - fee)
    if fee:
        postings.record(conn, postings.ADD, config["PLATFORM_NO"], call["request_no"], fee)
    now = transaction_time(conn)
    disbursed_on = schedules.local_date(config, now)
    borrow = borrows.advance(conn, borrow["id"], (DISBURSING,), DISBURSED, loan_time=now, disbursed_on=disbursed_on)
    if borrow is None:
        anomalies.record(conn, "loan-for-idle-borrow", call["request_no"], "a loan was confirmed for a borrow "
                         "that was not disbursing; the money is mirrored, the borrow needs an operator")
        return []
    plans.insert(conn, borrow["id"], schedules.schedule(borrow["amount"], borrow["term"], borrow["annual_rate"],
                                                        borrow["repayment_way"], disbursed_on))
    lines = loans.plan_lines(config, plans.of_borrow(conn, borrow["id"]), disbursed_on)
    partner_callbacks.loan_succeeded(conn, borrow["order_no"], {
        "loanTime": loans.partner_time(config, now), "loanAmount": borrow["amount"], "serviceFee": fee,
        "actualAmount": borrow["amount"] - fee}, lines)
    return [depository_calls.set_project_status(conn, borrow, REPAYING)]


def _retry_later(conn, config: dict, borrow: dict, error: str) -> None:
    delay = backoff(borrow["disburse_attempts"], config["DISBURSE_RETRY_BASE_SECONDS"],
                    config["DISBURSE_RETRY_MAX_SECONDS"])
    borrows.advance(conn, borrow["id"], (DISBURSING,), DISBURSE_FAILED, last_error=error[:500],
                    next_attempt_at=_later(conn, delay))
    log.warning("borrow %s: disbursement attempt %d failed (%s); again in %.1fs", borrow["borrow_no"],
                borrow["disburse_attempts"], error, delay, extra={"fields": {"alert": "lending-disbursement-failed"}})


def _later(conn, seconds: float):
    return transaction_time(conn) + timedelta(seconds=seconds)


def reject(deps, borrow_no: str, reason: str) -> list[str]:
    """The operator's refusal of a borrow that cannot be disbursed (10, 20 or 31 -> 27): the loan.rejected
    callback, every freeze still held cancelled (and mirrored once cancelled), the project miscarried.
    Refused while a freeze or a loan confirmation is in flight (13): its result must come first."""
    with unit_of_work(deps.pool) as conn:
        borrow = borrows.by_borrow_no(conn, borrow_no, lock=True) or borrows.by_order_no(conn, borrow_no, lock=True)
        if borrow is None:
            raise NotFound(f"no borrow {borrow_no}")
        if borrow["status"] not in (IN_REVIEW, APPROVED, DISBURSE_FAILED):
            raise Conflict(f"borrow {borrow['borrow_no']} is in status {borrow['status']}; only 10, 20 and 31 "
                           "can be refused (13: wait for the bank's answer)")
        borrows.advance(conn, borrow["id"], (IN_REVIEW, APPROVED, DISBURSE_FAILED), REFUSED,
                        reject_reason=reason[:500])
        partner_callbacks.loan_rejected(conn, borrow["order_no"], reason)
        follow_ups = []
        for tender in calls.of_borrow(conn, borrow["id"], "tender"):
            if tender["status"] == calls.SUCCESS and not calls.used_by_successful_loan(conn, tender["request_no"]):
                follow_ups += depository_calls.cancel(conn, tender, borrow)
        if any(project["status"] == calls.SUCCESS for project in calls.of_borrow(conn, borrow["id"], "project")):
            follow_ups.append(depository_calls.set_project_status(conn, borrow, MISCARRY))
    log.warning("borrow %s refused by an operator: %s", borrow["borrow_no"], reason)
    return follow_ups
