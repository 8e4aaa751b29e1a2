"""projects: the borrowers' projects (CREATE_PROJECT), their status, and what they raise and have lent (fen)."""


def insert_if_new(conn, request_no: str, project: dict) -> bool:
    """Create a project; False when its projectNo exists already."""
    return conn.execute(
        "insert into projects (project_no, request_no, user_no, project_amount, project_name, project_period,"
        " annual_rate, repayment_way) values (%(project_no)s, %(request_no)s, %(user_no)s, %(project_amount)s,"
        " %(project_name)s, %(project_period)s, %(annual_rate)s, %(repayment_way)s)"
        " on conflict (project_no) do nothing returning project_no",
        {**project, "request_no": request_no},
    ).fetchone() is not None


def get(conn, project_no: str) -> dict | None:
    return conn.execute("select * from projects where project_no = %s", (project_no,)).fetchone()


def lock(conn, project_no: str) -> dict | None:
    """The project row, locked for the rest of the transaction (before any pre-transaction or user), or None.
    FOR NO KEY UPDATE: a freeze's foreign-key check on the project (KEY SHARE) does not wait for it."""
    return conn.execute("select * from projects where project_no = %s for no key update", (project_no,)).fetchone()


def set_status(conn, project_no: str, status: str) -> None:
    conn.execute("update projects set status = %s, updated_at = now() where project_no = %s", (status, project_no))


def add_raising(conn, project_no: str, delta: int) -> bool:
    """Change what the project's TENDER freezes hold; False (nothing changed) when the project would then
    raise more than its amount, counting what it has lent."""
    return conn.execute(
        "update projects set raising = raising + %s, updated_at = now()"
        " where project_no = %s and raising + %s >= 0 and raising + %s + loaned <= project_amount"
        " returning project_no", (delta, project_no, delta, delta),
    ).fetchone() is not None


def lend(conn, project_no: str, amount: int) -> None:
    """Confirmed loans moved ``amount`` of the project's TENDER freezes to the borrower."""
    conn.execute("update projects set raising = raising - %s, loaned = loaned + %s, updated_at = now()"
                 " where project_no = %s", (amount, amount, project_no))
