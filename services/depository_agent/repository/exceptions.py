"""SQL for ``depository_exception``: what an operator must look at, never dropped silently.

Kinds: ``CONFLICTING_RESULT`` (the bank reported the other outcome for a final record; never
applied) and ``COMPENSATION_FAILED`` (a stuck record could not be settled from the bank's answer;
checked again after EXCEPTION_POLL_SECONDS, doubling up to EXCEPTION_POLL_MAX_SECONDS, until it settles
or an operator resolves it).
"""
import psycopg
from psycopg.types.json import Jsonb

CONFLICTING_RESULT = "CONFLICTING_RESULT"
COMPENSATION_FAILED = "COMPENSATION_FAILED"


def open_exception(conn: psycopg.Connection, request_no: str, kind: str, reason: str, detail: dict) -> dict:
    """Open an exception, or count one more occurrence (``attempts``) of the open one of the same kind."""
    return conn.execute(
        "insert into depository_exception (request_no, kind, reason, detail)"
        " values (%(request_no)s, %(kind)s, %(reason)s, %(detail)s)"
        " on conflict (request_no, kind) where resolved_at is null do update"
        " set attempts = depository_exception.attempts + 1, reason = excluded.reason, detail = excluded.detail,"
        "     updated_at = now()"
        " returning *",
        {"request_no": request_no, "kind": kind, "reason": reason[:1000], "detail": Jsonb(detail)},
    ).fetchone()


def retry_in(conn: psycopg.Connection, exception_id: int, seconds: float) -> None:
    """Make an open exception due for its next check ``seconds`` from now."""
    conn.execute("update depository_exception set next_attempt_at = now() + make_interval(secs => %s)"
                 " where id = %s", (seconds, exception_id))


def resolve(conn: psycopg.Connection, exception_id: int, resolution: str) -> dict | None:
    """Close an open exception; None when it does not exist or is already resolved."""
    return conn.execute(
        "update depository_exception set resolved_at = now(), resolution = %s, updated_at = now()"
        " where id = %s and resolved_at is null returning *", (resolution[:1000], exception_id)).fetchone()


def resolve_open(conn: psycopg.Connection, request_no: str, kind: str, resolution: str) -> None:
    """Close the open exception of ``kind`` for ``request_no``, if there is one."""
    conn.execute(
        "update depository_exception set resolved_at = now(), resolution = %s, updated_at = now()"
        " where request_no = %s and kind = %s and resolved_at is null", (resolution[:1000], request_no, kind))


def get(conn: psycopg.Connection, exception_id: int) -> dict | None:
    return conn.execute("select * from depository_exception where id = %s", (exception_id,)).fetchone()


def listing(conn: psycopg.Connection, include_resolved: bool = False, limit: int = 200) -> list[dict]:
    """Exceptions, oldest first; only the open ones unless ``include_resolved``."""
    return conn.execute(
        "select * from depository_exception where %s or resolved_at is null order by id limit %s",
        (include_resolved, limit)).fetchall()


def claim_due_retries(conn: psycopg.Connection, lease_seconds: int, limit: int) -> list[dict]:
    """Open COMPENSATION_FAILED exceptions whose retry is due, leased for ``lease_seconds``."""
    return conn.execute(
        "update depository_exception x set next_attempt_at = now() + make_interval(secs => %(lease)s)"
        " from (select id from depository_exception where kind = 'COMPENSATION_FAILED' and resolved_at is null"
        "       and next_attempt_at <= now() order by next_attempt_at limit %(limit)s for update skip locked) due"
        " where x.id = due.id returning x.*",
        {"lease": lease_seconds, "limit": limit}).fetchall()


def open_by_kind(conn: psycopg.Connection) -> dict[str, int]:
    """How many exceptions are open, per kind present."""
    rows = conn.execute("select kind, count(*) as n from depository_exception where resolved_at is null"
                        " group by kind").fetchall()
    return {row["kind"]: row["n"] for row in rows}
