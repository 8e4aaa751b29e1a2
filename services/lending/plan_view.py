"""How a borrow's plan reads on a given day: the partner's plan lines, and the installments a quote uses.

Penalties are computed for the day asked (unpaid principal × rate per day × days past due, once past
the grace period), so every reader sees the same figure whatever the overdue job has done so far.
"""
from datetime import date

from lending import schedules
from lending.repository.plans import DUE, OVERDUE, PAID


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
