"""SQL for ``depository_record``: one row per signed request, moved once from 0 to 1 or 2."""
import json

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from shared.outbox import MESSAGE_COLUMNS, column_type


def insert_or_get(conn: psycopg.Connection, record: dict) -> dict:
    """Insert ``record`` unless its request_no exists; return the stored row either way."""
    row = conn.execute(
        "insert into depository_record (request_no, request_type, service_name, object_type, object_id,"
        " user_no, amount, commission, request_data, expires_at)"
        " values (%(request_no)s, %(request_type)s, %(service_name)s, %(object_type)s, %(object_id)s,"
        " %(user_no)s, %(amount)s, %(commission)s, %(request_data)s, %(expires_at)s)"
        " on conflict (request_no) do nothing returning *",
        {**record, "request_data": Jsonb(record["request_data"])},
    ).fetchone()
    return row or get(conn, record["request_no"])


def get(conn: psycopg.Connection, request_no: str) -> dict | None:
    return conn.execute("select * from depository_record where request_no = %s", (request_no,)).fetchone()


def lock(conn: psycopg.Connection, request_no: str) -> dict | None:
    """The record, locked until the end of the transaction."""
    return conn.execute("select * from depository_record where request_no = %s for update",
                        (request_no,)).fetchone()


# One statement for any number of results (distinct requestNos), passed as one JSON array (cheaper to
# bind than ten arrays): lock the records in id order (so that concurrent groups cannot deadlock),
# settle those pending that match the result's service and amount (a NULL amount is not checked), and
# write one outbox row per settled record (shared.outbox.MESSAGE_COLUMNS, passed as text, cast to their types).
# Rendered to text once: a composed statement would be rendered again at every execution.
_APPLY_RESULTS = sql.SQL("""
with input as (
    select * from jsonb_to_recordset(%s::jsonb) as i(n int, request_no text, service_name text, status smallint,
        amount bigint, response jsonb, source text, {message_types})
), locked as (
    select id, request_no, service_name, amount, request_status from depository_record
    where request_no = any (array(select request_no from input)) order by id for update
), settled as (
    update depository_record r set request_status = i.status, response_data = i.response, result_source = i.source,
           confirm_date = now(), updated_at = now()
    from locked l join input i using (request_no)
    where r.id = l.id and l.request_status = 0 and l.service_name = i.service_name
      and l.amount is not distinct from coalesce(i.amount, l.amount)
    returning r.request_no
), published as (
    insert into outbox ({message_columns})
    select {message_values}
    from input i join settled using (request_no)
)
select l.id is not null as known, l.service_name, l.amount, l.request_status, settled.request_no is not null as settled
from input i left join locked l using (request_no) left join settled using (request_no) order by i.n
""").format(
    message_types=sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(name)) for name in MESSAGE_COLUMNS),
    message_columns=sql.SQL(", ").join(map(sql.Identifier, MESSAGE_COLUMNS)),
    message_values=sql.SQL(", ").join(sql.SQL("i.{}::{}").format(sql.Identifier(name), sql.SQL(column_type(name)))
                                      for name in MESSAGE_COLUMNS)).as_string()


def apply_results(conn: psycopg.Connection, results: list) -> list[dict | None]:
    """Apply bank results (``notifications.BankResult``, distinct requestNos) in ONE statement.

    One round trip and, in autocommit, one commit for the whole list. For each result, in order:
    None for an unknown request, else the record's ``service_name, amount, request_status`` as they
    were before and ``settled`` (whether this call applied the result). A concurrent statement for
    the same record waits for its lock and then sees the final status, so exactly one settles.
    """
    rows = conn.execute(_APPLY_RESULTS, (json.dumps([
        {"n": n, "request_no": r.result.request_no, "service_name": r.result.service_name, "status": r.result.status,
         "amount": r.result.amount, "response": r.result.fields, "source": r.source, **r.message}
        for n, r in enumerate(results)], ensure_ascii=False, separators=(",", ":")),)).fetchall()
    return [row if row["known"] else None for row in rows]


# How long ago the record's expired passed (negative before), by this database's clock.
_PAST_EXPIRY = "extract(epoch from now() - expires_at)::float8 as past_expiry_seconds"


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
        f" returning r.*, {_PAST_EXPIRY}",
        {"age": age_seconds, "interval": interval_seconds, "limit": limit},
    ).fetchall()


def get_for_check(conn: psycopg.Connection, request_no: str) -> dict | None:
    """The record with ``past_expiry_seconds`` (for a check outside the regular pass)."""
    return conn.execute(f"select *, {_PAST_EXPIRY} from depository_record where request_no = %s",
                        (request_no,)).fetchone()


def money_requests_between(conn: psycopg.Connection, start, end) -> list[dict]:
    """The records of requests that move money (RECHARGE, WITHDRAW, freezes, cancels, loans, repayments)
    created or confirmed in ``[start, end)`` (aware datetimes)."""
    return conn.execute(
        "select * from depository_record where request_type in ('RECHARGE', 'WITHDRAW', 'USER_AUTO_PRE_TRANSACTION',"
        " 'CANCEL_PRE_TRANSACTION', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT')"
        " and ((created_at >= %(start)s and created_at < %(end)s)"
        "      or (confirm_date >= %(start)s and confirm_date < %(end)s)) order by created_at, id",
        {"start": start, "end": end}).fetchall()


def get_many(conn: psycopg.Connection, request_nos: list[str]) -> list[dict]:
    """The records of ``request_nos`` that exist (any order)."""
    return conn.execute("select * from depository_record where request_no = any(%s)", (list(request_nos),)).fetchall()


def pending_by_type(conn: psycopg.Connection) -> dict[str, int]:
    """How many records wait for the bank's result (status 0), per request_type present."""
    rows = conn.execute("select request_type, count(*) as n from depository_record where request_status = 0"
                        " group by request_type").fetchall()
    return {row["request_type"]: row["n"] for row in rows}


def oldest_pending_age(conn: psycopg.Connection) -> float:
    """Seconds since the oldest still-pending record was created; 0 when none is pending."""
    return conn.execute("select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age"
                        " from depository_record where request_status = 0").fetchone()["age"]
