"""pre_transactions: freezes (TENDER or REPAYMENT) and what each still holds (fen)."""

FROZEN, USED, CANCELLED = "FROZEN", "USED", "CANCELLED"


def insert(conn, request_no: str, project_no: str, user_no: str, biz_type: str, amount: int) -> None:
    """A new freeze, holding its whole amount."""
    conn.execute(
        "insert into pre_transactions (request_no, project_no, user_no, biz_type, amount, remaining)"
        " values (%s, %s, %s, %s, %s, %s)", (request_no, project_no, user_no, biz_type, amount, amount))


def get(conn, request_no: str) -> dict | None:
    return conn.execute("select * from pre_transactions where request_no = %s", (request_no,)).fetchone()


def lock_many(conn, request_nos) -> dict[str, dict]:
    """Lock the freezes of ``request_nos`` in requestNo order (after their project, before any user);
    those that exist, by requestNo."""
    rows = conn.execute("select * from pre_transactions where request_no = any(%s) order by request_no for update",
                        (sorted(set(request_nos)),)).fetchall()
    return {row["request_no"]: row for row in rows}


def settle(conn, request_no: str, state: str, settled_by: str) -> None:
    """A frozen pre-transaction is used (by a confirmation) or cancelled: it holds nothing any more."""
    conn.execute("update pre_transactions set state = %s, remaining = 0, settled_by = %s, updated_at = now()"
                 " where request_no = %s and state = 'FROZEN'", (state, settled_by, request_no))


def lenders(conn, project_no: str, user_nos) -> set[str]:
    """Those of ``user_nos`` whose TENDER freezes of the project a confirmed loan used."""
    rows = conn.execute(
        "select distinct user_no from pre_transactions where project_no = %s and state = 'USED'"
        " and biz_type = 'TENDER' and user_no = any(%s)", (project_no, list(set(user_nos)))).fetchall()
    return {row["user_no"] for row in rows}
