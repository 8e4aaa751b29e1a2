"""pre_transactions: freezes (TENDER or REPAYMENT) and what each still holds (fen)."""
from psycopg.types.json import Jsonb

FROZEN, USED, CANCELLED = "FROZEN", "USED", "CANCELLED"


def freeze(conn, request_no: str, platform_no: str, payload: dict, expires_at, fields: dict) -> dict:
    """A USER_AUTO_PRE_TRANSACTION request from its lock to its result in one call of ``bank_freeze``
    (sql/01_freeze.sql), a transaction of its own: ``outcome`` 'recorded' (``recorded``: the request's row),
    'expired' at ``checked_at`` (nothing recorded) or 'answered' (``resp_code``, ``resp_msg``, and the
    stored fault knobs ``faults``)."""
    return conn.execute(
        "select * from bank_freeze(%s, %s, %s, %s, %s, %s, %s, %s)",
        (request_no, platform_no, fields["userNo"], Jsonb(payload), expires_at, fields["projectNo"],
         fields["amount"], fields["bizType"]),
    ).fetchone()


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
