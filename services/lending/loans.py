"""Reading loans: loan/trial and loan/result for the partner, a borrower's loans for user-center, and how a
borrow's plan reads on a given day.

Penalties are computed for the day asked (unpaid principal × rate per day × days past due, once past
the grace period), so every reader sees the same figure whatever the overdue job has done so far.
"""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.contract import LOAN_DISBURSED, LOAN_IN_PROGRESS, LOAN_REFUSED
from shared.errors import Conflict

from lending import schedules
from lending.orders import known_order
from lending.repository import borrows, plans
from lending.repository.borrows import (APPROVED, CREATED, DISBURSE_FAILED, DISBURSED, DISBURSING, IN_REVIEW,
                                        REFUSED, REPAID, REPAID_WAIVED)
from lending.repository.plans import DUE, OVERDUE, PAID

_LOAN_STATUS = {CREATED: LOAN_IN_PROGRESS, IN_REVIEW: LOAN_IN_PROGRESS, APPROVED: LOAN_IN_PROGRESS,
                DISBURSING: LOAN_IN_PROGRESS, DISBURSE_FAILED: LOAN_IN_PROGRESS, REFUSED: LOAN_REFUSED,
                DISBURSED: LOAN_DISBURSED, REPAID: LOAN_DISBURSED, REPAID_WAIVED: LOAN_DISBURSED}


def trial(config: dict, amount: int, term: int) -> dict:
    """loan/trial: the fee, the interest and the plan of a loan disbursed today."""
    periods = schedules.schedule(amount, term, config["ANNUAL_RATE_FRACTION"], config["REPAYMENT_WAY"],
                                 schedules.today(config))
    fee = schedules.service_fee(amount, config["SERVICE_FEE_RATE_FRACTION"])
    interest = sum(period.interest for period in periods)
    return {"loanAmount": amount, "serviceFee": fee, "actualAmount": amount - fee, "totalInterest": interest,
            "totalRepay": amount + interest,
            "plans": [{"period": p.period, "dueDate": p.due_date.isoformat(), "principal": p.principal,
                       "interest": p.interest, "total": p.total} for p in periods]}


def loan_result(deps, order_no: str) -> dict:
    """``{status, loanTime?, reason?}``: 7002 in progress, 7003 refused, 7001 disbursed."""
    with deps.pool.connection() as conn:
        order = known_order(conn, order_no)
        borrow = borrows.by_order_id(conn, order["id"])
    if borrow is None:
        raise Conflict(f"order {order_no} has no borrow yet (order status {order['status']})")
    answer = {"status": _LOAN_STATUS[borrow["status"]]}
    if borrow["loan_time"] is not None:
        answer["loanTime"] = partner_time(deps.config, borrow["loan_time"])
    if borrow["status"] == REFUSED:
        answer["reason"] = borrow["reject_reason"] or "refused"
    return answer


def loans_of(deps, user_no: str) -> dict:
    """A borrower's loans, newest first, each with its plan as it stands today."""
    today = schedules.today(deps.config)
    loans = []
    with deps.pool.connection() as conn:
        for borrow in borrows.of_user(conn, user_no):
            loans.append({
                "orderNo": borrow["order_no"], "borrowNo": borrow["borrow_no"], "status": borrow["status"],
                "amount": borrow["amount"], "serviceFee": borrow["service_fee"], "term": borrow["term"],
                "annualRate": format(borrow["annual_rate"].normalize(), "f"), "repaymentWay": borrow["repayment_way"],
                "loanTime": partner_time(deps.config, borrow["loan_time"]) if borrow["loan_time"] else None,
                "plans": plan_lines(deps.config, plans.of_borrow(conn, borrow["id"]), today)})
    return {"loans": loans}


def partner_time(config: dict, moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in the lending time zone, as the partner reads times."""
    return moment.astimezone(ZoneInfo(config["LENDING_TIMEZONE"])).strftime("%Y-%m-%d %H:%M:%S")


def installments(rows: list[dict]) -> list[schedules.Installment]:
    """Plan rows as the installments :func:`lending.schedules.quote` works on."""
    return [schedules.Installment(schedules.Period(row["period"], row["start_date"], row["due_date"],
                                                   row["principal"], row["interest"]),
                                  paid=row["status"] == PAID, penalty_waived=row["penalty_waived"])
            for row in rows]


def plan_lines(config: dict, rows: list[dict], today: date) -> list[dict]:
    """``[{period, dueDate, principal, interest, penalty, total, paid, status, overdueDays}]``: a paid
    period shows what it cost, an unpaid one what it costs today."""
    lines = []
    for row, item in zip(rows, installments(rows)):
        if item.paid:
            interest, penalty, status, days = row["paid_interest"], row["paid_penalty"], PAID, 0
        else:
            days = schedules.overdue_days(row["due_date"], today)
            penalty = schedules.penalty_of(item, today, config["PENALTY_RATE_FRACTION"], config["GRACE_DAYS"])
            interest = row["interest"]
            status = OVERDUE if days > config["GRACE_DAYS"] else DUE
        paid = row["paid_principal"] + row["paid_interest"] + row["paid_penalty"]
        lines.append({"period": row["period"], "dueDate": row["due_date"].isoformat(), "principal": row["principal"],
                      "interest": interest, "penalty": penalty, "total": row["principal"] + interest + penalty,
                      "paid": paid, "status": status, "overdueDays": days})
    return lines
