"""The overdue job (daily in effect; it may run as often as wanted): unpaid periods more than GRACE_DAYS
past their due date become overdue (2) with their penalty of the day, and each period's first day
overdue writes a repay.overdue callback. The operator's penalty waiver is here too.

The penalty itself is computed for the day asked wherever it is read (see :func:`lending.loans.plan_lines`);
the job keeps the stored figure current for the metrics and announces new overdue periods.
"""
from datetime import timedelta

from shared.db import unit_of_work
from shared.errors import Conflict, NotFound

from lending import partner_callbacks, schedules
from lending.loans import plan_lines
from lending.repository import borrows, plans, repayments
from lending.repository.borrows import DISBURSED


def mark_overdue(deps, today=None) -> int:
    """Mark every unpaid period past its grace period; returns how many were marked."""
    config = deps.config
    today = today or schedules.today(config)
    before = today - timedelta(days=config["GRACE_DAYS"])
    marked, after_id = 0, 0
    while True:
        with unit_of_work(deps.pool) as conn:
            due = plans.lock_borrows_overdue(conn, before, config["JOB_BATCH"], after_id)
            if not due:
                return marked
            for borrow in due:
                marked += _mark_borrow(conn, config, borrow, before, today)
            after_id = due[-1]["id"]


def _mark_borrow(conn, config: dict, borrow: dict, before, today) -> int:
    rows = plans.of_borrow(conn, borrow["id"], lock=True)
    lines = plan_lines(config, rows, today)
    marked = 0
    for row, line in zip(rows, lines):
        if row["status"] == plans.PAID or row["due_date"] >= before:
            continue
        plans.set_overdue(conn, borrow["id"], row["period"], line["penalty"])
        if not row["overdue_notified"]:
            partner_callbacks.repay_overdue(conn, borrow["order_no"], line)
        marked += 1
    return marked


def waive(deps, order_no: str, period: int | None) -> int:
    """Waive the penalty of one unpaid period of a repaying borrow, or of all of them; the borrow ends
    as 41 (repaid, penalty waived) instead of 40. Refused while a repayment is in progress, whose
    amount was fixed with the penalty."""
    with unit_of_work(deps.pool) as conn:
        borrow = borrows.by_order_no(conn, order_no, lock=True) or borrows.by_borrow_no(conn, order_no, lock=True)
        if borrow is None:
            raise NotFound(f"no borrow for {order_no}")
        if borrow["status"] != DISBURSED:
            raise Conflict(f"borrow {borrow['borrow_no']} is not repaying (status {borrow['status']})")
        if repayments.processing_of(conn, borrow["id"]) is not None:
            raise Conflict("a repayment is in progress; waive once it is settled")
        waived = plans.waive(conn, borrow["id"], period)
        if waived:
            borrows.update(conn, borrow["id"], penalty_waived=True)
    return waived
