"""borrows: one per partner order, created when the borrower confirms with an open depository account."""
CREATED, IN_REVIEW, APPROVED, DISBURSING, DISBURSED, REPAID, REPAID_WAIVED, REFUSED, DISBURSE_FAILED = (
    0, 10, 20, 13, 30, 40, 41, 27, 31)


def insert(conn, borrow: dict) -> dict:
    return conn.execute(
        "insert into borrows (borrow_no, order_id, order_no, user_no, amount, term, annual_rate, repayment_way,"
        " service_fee, project_no) values (%(borrow_no)s, %(order_id)s, %(order_no)s, %(user_no)s, %(amount)s,"
        " %(term)s, %(annual_rate)s, %(repayment_way)s, %(service_fee)s, %(project_no)s) returning *",
        borrow).fetchone()


def by_order_id(conn, order_id: int) -> dict | None:
    return conn.execute("select * from borrows where order_id = %s", (order_id,)).fetchone()


def by_order_no(conn, order_no: str, lock: bool = False) -> dict | None:
    return conn.execute("select * from borrows where order_no = %s" + (" for update" if lock else ""),
                        (order_no,)).fetchone()


def by_borrow_no(conn, borrow_no: str, lock: bool = False) -> dict | None:
    return conn.execute("select * from borrows where borrow_no = %s" + (" for update" if lock else ""),
                        (borrow_no,)).fetchone()


def by_id(conn, borrow_id: int, lock: bool = False) -> dict | None:
    return conn.execute("select * from borrows where id = %s" + (" for update" if lock else ""),
                        (borrow_id,)).fetchone()


def of_user(conn, user_no: str) -> list[dict]:
    return conn.execute("select * from borrows where user_no = %s order by id desc", (user_no,)).fetchall()


def advance(conn, borrow_id: int, from_statuses: tuple, to_status: int, **fields) -> dict | None:
    """Move a borrow from one of ``from_statuses`` to ``to_status`` (setting ``fields``); None when it is elsewhere."""
    sets = "".join(f", {name} = %({name})s" for name in fields)
    return conn.execute(
        f"update borrows set status = %(to)s{sets} where id = %(id)s and status = any(%(from)s) returning *",
        {**fields, "id": borrow_id, "from": list(from_statuses), "to": to_status}).fetchone()


def update(conn, borrow_id: int, **fields) -> None:
    sets = ", ".join(f"{name} = %({name})s" for name in fields)
    conn.execute(f"update borrows set {sets} where id = %(id)s", {**fields, "id": borrow_id})


def lock_due_for_disbursement(conn, batch: int) -> list[dict]:
    """Approved borrows, and failed disbursements whose retry is due (skip locked: replicas share)."""
    return conn.execute(
        "select * from borrows where (status = 20 or (status = 31 and next_attempt_at <= now()))"
        " order by next_attempt_at limit %s for update skip locked", (batch,)).fetchall()
