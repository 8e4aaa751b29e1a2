"""SQL for ``depository_record``: one row per signed request, moved once from 0 to 1 or 2."""
import psycopg
from psycopg.types.json import Jsonb


def insert_or_get(conn: psycopg.Connection, record: dict) -> dict:
    """Insert ``record`` unless its request_no exists; return the stored row either way."""
    row = conn.execute(
        "insert into depository_record (request_no, request_type, service_name, object_type, object_id,"
        " user_no, amount, commission, request_data)"
        " values (%(request_no)s, %(request_type)s, %(service_name)s, %(object_type)s, %(object_id)s,"
        " %(user_no)s, %(amount)s, %(commission)s, %(request_data)s)"
        " on conflict (request_no) do nothing returning *",
        {**record, "request_data": Jsonb(record["request_data"])},
    ).fetchone()
    return row or get(conn, record["request_no"])


def get(conn: psycopg.Connection, request_no: str) -> dict | None:
    return conn.execute("select * from depository_record where request_no = %s", (request_no,)).fetchone()


def lock(conn: psycopg.Connection, request_no: str) -> dict | None:
    """The record, locked until the end of the transaction (serialises concurrent results)."""
    return conn.execute("select * from depository_record where request_no = %s for update",
                        (request_no,)).fetchone()


def finish(conn: psycopg.Connection, record_id: int, status: int, response: dict, source: str) -> None:
    """Move a pending record to its final status with the bank's result."""
    conn.execute(
        "update depository_record set request_status = %s, response_data = %s, result_source = %s,"
        " confirm_date = now(), updated_at = now() where id = %s and request_status = 0",
        (status, Jsonb(response), source, record_id),
    )


def claim_due(conn: psycopg.Connection, age_seconds: int, interval_seconds: int, limit: int) -> list[dict]:
    """Pending records older than ``age_seconds`` that are due for a bank query and have no open
    exception; each is leased for ``interval_seconds`` so that parallel workers skip it."""
    return conn.execute(
        "update depository_record r set next_check_at = now() + make_interval(secs => %(interval)s)"
        " from (select id from depository_record d"
        "       where request_status = 0 and created_at < now() - make_interval(secs => %(age)s)"
        "         and coalesce(next_check_at, '-infinity') <= now()"
        "         and not exists (select 1 from depository_exception e where e.request_no = d.request_no"
        "                         and e.kind = 'COMPENSATION_FAILED' and e.resolved_at is null)"
        "       order by created_at limit %(limit)s for update skip locked) due"
        " where r.id = due.id"
        " returning r.*, extract(epoch from now() - r.created_at)::float8 as age_seconds",
        {"age": age_seconds, "interval": interval_seconds, "limit": limit},
    ).fetchall()


def get_with_age(conn: psycopg.Connection, request_no: str) -> dict | None:
    """The record with its age in seconds (for a check outside the regular pass)."""
    return conn.execute(
        "select *, extract(epoch from now() - created_at)::float8 as age_seconds"
        " from depository_record where request_no = %s", (request_no,)).fetchone()


def money_requests_between(conn: psycopg.Connection, start, end) -> list[dict]:
    """RECHARGE and WITHDRAW records created or confirmed in ``[start, end)`` (aware datetimes)."""
    return conn.execute(
        "select * from depository_record where request_type in ('RECHARGE', 'WITHDRAW')"
        " and ((created_at >= %(start)s and created_at < %(end)s)"
        "      or (confirm_date >= %(start)s and confirm_date < %(end)s)) order by created_at, id",
        {"start": start, "end": end}).fetchall()


def get_many(conn: psycopg.Connection, request_nos: list[str]) -> list[dict]:
    """The records of ``request_nos`` that exist (any order)."""
    return conn.execute("select * from depository_record where request_no = any(%s)", (list(request_nos),)).fetchall()
