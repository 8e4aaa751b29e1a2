"""Reading loans: loan/result for the partner, and a borrower's loans with their plans for user-center."""
from shared.errors import Conflict
from shared.contract import LOAN_DISBURSED, LOAN_IN_PROGRESS, LOAN_REFUSED

from lending import clock
from lending.orders import known_order
from lending.plan_view import plan_lines
from lending.repository import borrows, plans
from lending.repository.borrows import (APPROVED, CREATED, DISBURSE_FAILED, DISBURSED, DISBURSING, IN_REVIEW,
                                        REFUSED, REPAID, REPAID_WAIVED)

_LOAN_STATUS = {CREATED: LOAN_IN_PROGRESS, IN_REVIEW: LOAN_IN_PROGRESS, APPROVED: LOAN_IN_PROGRESS,
                DISBURSING: LOAN_IN_PROGRESS, DISBURSE_FAILED: LOAN_IN_PROGRESS, REFUSED: LOAN_REFUSED,
                DISBURSED: LOAN_DISBURSED, REPAID: LOAN_DISBURSED, REPAID_WAIVED: LOAN_DISBURSED}


def loan_result(deps, order_no: str) -> dict:
    """``{status, loanTime?, reason?}``: 7002 in progress, 7003 refused, 7001 disbursed."""
    with deps.pool.connection() as conn:
        order = known_order(conn, order_no)
        borrow = borrows.by_order_id(conn, order["id"])
    if borrow is None:
        raise Conflict(f"order {order_no} has no borrow yet (order status {order['status']})")
    answer = {"status": _LOAN_STATUS[borrow["status"]]}
    if borrow["loan_time"] is not None:
        answer["loanTime"] = clock.local_time_text(deps.config, borrow["loan_time"])
    if borrow["status"] == REFUSED:
        answer["reason"] = borrow["reject_reason"] or "refused"
    return answer


def loans_of(deps, user_no: str) -> dict:
    """A borrower's loans, newest first, each with its plan as it stands today."""
    today = clock.today(deps.config)
    loans = []
    with deps.pool.connection() as conn:
        for borrow in borrows.of_user(conn, user_no):
            loans.append({
                "orderNo": borrow["order_no"], "borrowNo": borrow["borrow_no"], "status": borrow["status"],
                "amount": borrow["amount"], "serviceFee": borrow["service_fee"], "term": borrow["term"],
                "annualRate": format(borrow["annual_rate"].normalize(), "f"), "repaymentWay": borrow["repayment_way"],
                "loanTime": clock.local_time_text(deps.config, borrow["loan_time"]) if borrow["loan_time"] else None,
                "plans": plan_lines(deps.config, plans.of_borrow(conn, borrow["id"]), today)})
    return {"loans": loans}
