"""Repayments: repay/plan, repay/trial, repay and repay/result, and what each bank result does.

A repayment freezes the amount due in the borrower's depository account (REPAYMENT), then confirms it:
principal + interest to the funder, the penalty to the platform as the commission. One repayment per
borrow is in progress at a time (a unique index), and a repayNo is stored before its freeze is sent,
under the borrow's row lock, so repeated or concurrent calls freeze once.

Ledger mirror: the freeze is a deduct from the borrower (trade_no = the freeze's requestNo), a
cancellation its refund, the confirmation an add to the funder (trade_no ``<requestNo>:<userNo>``) and
an add of the penalty to the platform (trade_no = the confirmation's requestNo).
"""
import logging
from dataclasses import asdict

from shared.contract import CLEARED, REPAYMENT, RESP_INSUFFICIENT
from shared.contract import REPAY_FAILED as FAILED
from shared.contract import REPAY_PROCESSING as PROCESSING
from shared.contract import REPAY_SUCCESS as SUCCESS
from shared.db import unit_of_work
from shared.errors import BadRequest, Conflict, NotFound

from lending import depository_calls, partner_callbacks, schedules
from lending.loans import installments, plan_lines
from lending.orders import known_order
from lending.repository import anomalies, borrows, calls, plans, postings, repayments
from lending.repository.borrows import DISBURSED, REPAID, REPAID_WAIVED

log = logging.getLogger(__name__)
INSUFFICIENT = "insufficient available balance in the depository account"


def _borrow_of(conn, order_no: str, lock: bool = False) -> dict:
    known_order(conn, order_no)
    borrow = borrows.by_order_no(conn, order_no, lock)
    if borrow is None or borrow["status"] not in (DISBURSED, REPAID, REPAID_WAIVED):
        raise Conflict(f"order {order_no} has no disbursed loan")
    return borrow


def plan(deps, order_no: str) -> dict:
    with deps.pool.connection() as conn:
        borrow = _borrow_of(conn, order_no)
        rows = plans.of_borrow(conn, borrow["id"])
    return {"plans": plan_lines(deps.config, rows, schedules.today(deps.config))}


def _quote(config: dict, rows: list[dict], periods) -> schedules.Quote:
    try:
        return schedules.quote(installments(rows), periods, schedules.today(config), config["PENALTY_RATE_FRACTION"],
                               config["GRACE_DAYS"])
    except schedules.SelectionError as exc:
        raise (BadRequest if exc.malformed else Conflict)(exc.msg) from None


def trial(deps, order_no: str, periods) -> dict:
    """What repaying ``periods`` costs now: ``{amount, principal, interest, penalty}``."""
    with deps.pool.connection() as conn:
        borrow = _borrow_of(conn, order_no)
        rows = plans.of_borrow(conn, borrow["id"])
    quote = _quote(deps.config, rows, periods)
    return {"amount": quote.amount, "principal": quote.principal, "interest": quote.interest, "penalty": quote.penalty}


def start(deps, request: dict) -> tuple[dict, list[str]]:
    """Store the repayment and its freeze (the answer now, and the freeze to send); a repeated repayNo
    answers what it is, or 409 when it came with other content."""
    order_no, repay_no = request["order_no"], request["repay_no"]
    with unit_of_work(deps.pool) as conn:
        borrow = _borrow_of(conn, order_no, lock=True)  # serialises the repayments of one borrow
        stored = repayments.by_repay_no(conn, repay_no)
        if stored is not None:
            return _same_or_conflict(stored, request), []
        if borrow["status"] != DISBURSED:
            raise Conflict(f"the loan of order {order_no} is repaid already")
        if repayments.processing_of(conn, borrow["id"]) is not None:
            raise Conflict(f"another repayment of order {order_no} is in progress")
        quote = _quote(deps.config, plans.of_borrow(conn, borrow["id"]), request["periods"])
        if request["amount"] != quote.amount:
            raise Conflict(f"amount must equal the trial's {quote.amount} fen")
        repayment = repayments.insert(conn, {
            "repay_no": repay_no, "borrow_id": borrow["id"], "order_no": order_no, "periods": request["periods"],
            "amount": quote.amount, "principal": quote.principal, "interest": quote.interest, "penalty": quote.penalty,
            "parts": [asdict(part) for part in quote.parts], "freeze_request_no": depository_calls.new_request_no()})
        depository_calls.freeze(conn, "repay-freeze", borrow, borrow["user_no"], quote.amount, REPAYMENT,
                                repayment_id=repayment["id"], request_no=repayment["freeze_request_no"])
    return _answer(repayment), [repayment["freeze_request_no"]]


def result(deps, repay_no: str) -> dict:
    with deps.pool.connection() as conn:
        stored = repayments.by_repay_no(conn, repay_no)
    if stored is None:
        raise NotFound(f"unknown repayNo {repay_no}")
    return _answer(stored)


def answer_of(deps, repay_no: str) -> dict:
    """The repayment's answer as it stands (after its freeze was sent)."""
    with deps.pool.connection() as conn:
        return _answer(repayments.by_repay_no(conn, repay_no))


def _answer(repayment: dict) -> dict:
    answer = {"repayNo": repayment["repay_no"], "status": repayment["status"]}
    if repayment["reason"]:
        answer["reason"] = repayment["reason"]
    return answer


def _same_or_conflict(stored: dict, request: dict) -> dict:
    if (stored["order_no"], stored["periods"], stored["amount"]) != (request["order_no"], request["periods"],
                                                                      request["amount"]):
        raise Conflict(f"repayNo {stored['repay_no']} was used with other content")
    return _answer(stored)


def on_freeze(conn, config: dict, call: dict, success: bool) -> list[str]:
    """The borrower's REPAYMENT freeze: mirrored as a deduct, then confirmed; refused, the repayment failed."""
    repayment = repayments.by_id(conn, call["repayment_id"], lock=True)
    borrow = borrows.by_id(conn, call["borrow_id"])
    if success:
        postings.record(conn, postings.DEDUCT, call["user_no"], call["request_no"], call["amount"])
        if repayment["status"] == PROCESSING:
            return [depository_calls.confirm_repayment(conn, borrow, repayment, call)]
        return depository_calls.cancel(conn, call, borrow)
    reason = INSUFFICIENT if call["resp_code"] == RESP_INSUFFICIENT else \
        f"the bank refused the freeze: {call['resp_code']} {call['resp_msg']}"
    _finish(conn, config, borrow, repayment, FAILED, reason)
    return []


def on_confirm(conn, config: dict, call: dict, success: bool) -> list[str]:
    """The repay-result consumer: confirmed, the periods are paid (the borrow 40, or 41 with a waived
    penalty, once all are) and the repay.result callback written; refused, the freeze is cancelled."""
    repayment = repayments.by_id(conn, call["repayment_id"], lock=True)
    borrow = borrows.by_id(conn, call["borrow_id"], lock=True)
    if not success:
        return depository_calls.cancel(conn, calls.get(conn, call["pre_request_no"]), borrow)
    paid_out = repayment["principal"] + repayment["interest"]
    if paid_out:
        postings.record(conn, postings.ADD, call["user_no"], f"{call['request_no']}:{call['user_no']}", paid_out)
    if repayment["penalty"]:
        postings.record(conn, postings.ADD, config["PLATFORM_NO"], call["request_no"], repayment["penalty"])
    for part in repayment["parts"]:
        plans.mark_paid(conn, borrow["id"], part["period"], part["principal"], part["interest"], part["penalty"])
    follow_ups = []
    if all(row["status"] == plans.PAID for row in plans.of_borrow(conn, borrow["id"])):
        borrows.advance(conn, borrow["id"], (DISBURSED,), REPAID_WAIVED if borrow["penalty_waived"] else REPAID)
        follow_ups.append(depository_calls.set_project_status(conn, borrow, CLEARED))
    _finish(conn, config, borrow, repayment, SUCCESS, None)
    return follow_ups


def on_cancel(conn, config: dict, call: dict, success: bool) -> list[str]:
    repayment = repayments.by_id(conn, call["repayment_id"], lock=True)
    borrow = borrows.by_id(conn, call["borrow_id"])
    if success:
        postings.record(conn, postings.REFUND, call["user_no"], call["pre_request_no"], call["amount"])
        reason = "the bank refused the repayment; the frozen amount was released"
    else:
        anomalies.record(conn, "cancel-refused", call["pre_request_no"],
                         f"CANCEL_PRE_TRANSACTION {call['request_no']} refused: {call['resp_code']} {call['resp_msg']}")
        reason = "the bank refused the repayment; the frozen amount awaits an operator"
    _finish(conn, config, borrow, repayment, FAILED, reason)
    return []


def _finish(conn, config: dict, borrow: dict, repayment: dict, status: str, reason: str | None) -> None:
    finished = repayments.finish(conn, repayment["id"], status, reason)
    if finished is None:
        return
    lines = plan_lines(config, plans.of_borrow(conn, borrow["id"]), schedules.today(config))
    partner_callbacks.repay_result(conn, borrow["order_no"], finished, lines)
    log.info("repayment %s of order %s: %s%s", finished["repay_no"], borrow["order_no"], status,
             f" ({reason})" if reason else "")
