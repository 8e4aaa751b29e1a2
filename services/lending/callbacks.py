"""Partner callbacks: written in the transaction of the state change they announce (an outbox), then
delivered in a fresh envelope until the partner answers ``{"code": 0}``.

Each eventId is derived from what it announces (``loan.succeeded:<orderNo>``, ``repay.result:<repayNo>``,
...), so one event can never be written twice and the partner drops repeats by it. Delivery leases a
batch with ``for update skip locked`` (any number of senders may run), one callback per order at a
time, oldest first, and backs off exponentially up to CALLBACK_RETRY_MAX_SECONDS, for ever: a partner
that is down for hours gets every callback once it is back.
"""
import logging

from shared.contract import (AUDIT_REFUSED, CREDIT_REJECTED, LOAN_DISBURSED, LOAN_REFUSED, LOAN_REJECTED,
                                     LOAN_SUCCEEDED, REPAY_OVERDUE, REPAY_RESULT)
from shared.db import unit_of_work

from lending.partner_client import PartnerUnavailable
from lending.repository import callbacks as repo

log = logging.getLogger(__name__)
REFUSAL_TEXT = "资质不符"


def credit_rejected(conn, order_no: str, can_loan_time: str) -> None:
    _enqueue(conn, f"{CREDIT_REJECTED}:{order_no}", CREDIT_REJECTED, order_no,
             {"status": AUDIT_REFUSED, "reason": REFUSAL_TEXT, "canLoanTime": can_loan_time})


def loan_rejected(conn, order_no: str, reason: str) -> None:
    _enqueue(conn, f"{LOAN_REJECTED}:{order_no}", LOAN_REJECTED, order_no, {"status": LOAN_REFUSED, "reason": reason})


def loan_succeeded(conn, order_no: str, loan: dict, plans: list[dict]) -> None:
    _enqueue(conn, f"{LOAN_SUCCEEDED}:{order_no}", LOAN_SUCCEEDED, order_no,
             {"status": LOAN_DISBURSED, **loan, "plans": plans})


def repay_overdue(conn, order_no: str, line: dict) -> None:
    _enqueue(conn, f"{REPAY_OVERDUE}:{order_no}:{line['period']}", REPAY_OVERDUE, order_no,
             {"period": line["period"], "dueDate": line["dueDate"], "overdueDays": line["overdueDays"],
              "penalty": line["penalty"], "amount": line["total"]})


def repay_result(conn, order_no: str, repayment: dict, plans: list[dict]) -> None:
    biz = {"repayNo": repayment["repay_no"], "status": repayment["status"], "amount": repayment["amount"],
           "periods": repayment["periods"], "plans": plans}
    if repayment["reason"]:
        biz["reason"] = repayment["reason"]
    _enqueue(conn, f"{REPAY_RESULT}:{repayment['repay_no']}", REPAY_RESULT, order_no, biz)


def _enqueue(conn, event_id: str, event: str, order_no: str, details: dict) -> None:
    repo.enqueue(conn, event_id, event, order_no, {"eventId": event_id, "event": event, "orderNo": order_no, **details})


def deliver_due(deps) -> int:
    """Deliver every callback due now (a batch); return how many were attempted."""
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        # the lease outlasts a batch of slow answers, so another sender never takes one still in hand
        due = repo.claim_due(conn, config["CALLBACK_BATCH"],
                             config["LEASE_SECONDS"] + config["CALLBACK_BATCH"] * config["PARTNER_TIMEOUT_SECONDS"])
    for callback in due:
        try:
            deps.partner.deliver(callback["biz"])
        except PartnerUnavailable as exc:
            delay = min(config["CALLBACK_RETRY_BASE_SECONDS"] * 2 ** min(callback["attempts"] - 1, 30),
                        config["CALLBACK_RETRY_MAX_SECONDS"])
            with unit_of_work(deps.pool) as conn:
                repo.retry_later(conn, callback["id"], delay, str(exc))
            log.info("callback %s attempt %d not acknowledged (%s); again in %ss", callback["event_id"],
                     callback["attempts"], exc, delay)
            continue
        with unit_of_work(deps.pool) as conn:
            repo.mark_delivered(conn, callback["id"])
    return len(due)
