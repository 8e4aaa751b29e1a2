"""``withdraw_hold_release``: withdraw holds to give back, retried until the ledger refunds them."""
from psycopg import Connection


def record(conn: Connection, request_no: str, user_no: str, amount: int, reason: str) -> None:
    """Note that the hold of ``request_no`` must be released (once; a repeat changes nothing)."""
    conn.execute(
        "insert into withdraw_hold_release (request_no, user_no, amount, reason) values (%s, %s, %s, %s)"
        " on conflict (request_no) do nothing", (request_no, user_no, amount, reason[:500]))


def claim_due(conn: Connection, lease_seconds: float, limit: int, due_only: bool = True) -> list[dict]:
    """Unreleased rows whose next attempt is due (all of them unless ``due_only``), leased for
    ``lease_seconds`` so that parallel sweeps skip them."""
    return conn.execute(
        "update withdraw_hold_release h set next_attempt_at = now() + make_interval(secs => %(lease)s)"
        " from (select request_no from withdraw_hold_release where released_at is null"
        "       and (next_attempt_at <= now() or not %(due_only)s)"
        "       order by next_attempt_at limit %(limit)s for update skip locked) due"
        " where h.request_no = due.request_no returning h.*",
        {"lease": lease_seconds, "limit": limit, "due_only": due_only}).fetchall()


def mark_released(conn: Connection, request_no: str, outcome: str) -> None:
    """Close the row: ``outcome`` is ``refund`` or ``void`` (released) or ``kept`` (the bank paid the withdraw)."""
    conn.execute("update withdraw_hold_release set released_at = now(), attempts = attempts + 1, outcome = %s,"
                 " updated_at = now() where request_no = %s and released_at is null", (outcome, request_no))


def mark_attempt_failed(conn: Connection, request_no: str, error: str, retry_in_seconds: float) -> dict:
    """Count a failed refund and schedule the next one; returns the row."""
    return conn.execute(
        "update withdraw_hold_release set attempts = attempts + 1, last_error = %s,"
        " next_attempt_at = now() + make_interval(secs => %s), updated_at = now()"
        " where request_no = %s returning *", (error[:500], retry_in_seconds, request_no)).fetchone()


def listing(conn: Connection, include_released: bool) -> list[dict]:
    """Release rows, oldest first; only the unreleased ones unless ``include_released``."""
    return conn.execute("select * from withdraw_hold_release where %s or released_at is null order by created_at",
                        (include_released,)).fetchall()
