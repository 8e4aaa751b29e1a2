"""plans: a disbursed borrow's periods and what was paid of each."""
DUE, PAID, OVERDUE = 0, 1, 2


def insert(conn, borrow_id: int, periods) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into plans (borrow_id, period, start_date, due_date, principal, interest)"
            " values (%s, %s, %s, %s, %s, %s)",
            [(borrow_id, p.period, p.start_date, p.due_date, p.principal, p.interest) for p in periods])


def of_borrow(conn, borrow_id: int, lock: bool = False) -> list[dict]:
    return conn.execute("select * from plans where borrow_id = %s order by period" + (" for update" if lock else ""),
                        (borrow_id,)).fetchall()


def mark_paid(conn, borrow_id: int, period: int, principal: int, interest: int, penalty: int) -> None:
    conn.execute("update plans set status = 1, paid_principal = %s, paid_interest = %s, paid_penalty = %s,"
                 " penalty = %s, paid_at = now() where borrow_id = %s and period = %s and status <> 1",
                 (principal, interest, penalty, penalty, borrow_id, period))


def lock_borrows_overdue(conn, before, batch: int, after_id: int) -> list[dict]:
    """Repaying borrows (after ``after_id``, in id order) with an unpaid period due before ``before``;
    locked, skipping those another replica holds."""
    return conn.execute(
        "select b.id, b.order_no from borrows b where b.status = 30 and b.id > %s and exists (select 1 from plans p"
        " where p.borrow_id = b.id and p.status <> 1 and p.due_date < %s) order by b.id limit %s"
        " for update skip locked", (after_id, before, batch)).fetchall()


def set_overdue(conn, borrow_id: int, period: int, penalty: int) -> None:
    """Overdue (2) with the day's penalty, its callback written."""
    conn.execute("update plans set status = 2, penalty = %s, overdue_notified = true"
                 " where borrow_id = %s and period = %s and status <> 1", (penalty, borrow_id, period))


def waive(conn, borrow_id: int, period: int | None) -> int:
    """Waive the penalty of one unpaid period (every unpaid one when ``period`` is None)."""
    return conn.execute(
        "update plans set penalty_waived = true, penalty = 0 where borrow_id = %s and status <> 1"
        " and (%s::int is null or period = %s) and not penalty_waived", (borrow_id, period, period)).rowcount
