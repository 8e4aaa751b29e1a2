"""SQL of bank-callback's tables. char(n) columns are rtrim-ed on the way out; callers pass trimmed values."""
import json
from functools import partial

from psycopg import Connection
from psycopg.types.json import Json, Jsonb


def insert_customer(conn: Connection, openid: str, cust_id: str) -> bool:
    """Bind ``openid`` to ``cust_id`` unless a live row already holds either; True when inserted."""
    row = conn.execute(
        "insert into bank_customers (openid, cust_id) values (%s, %s) on conflict do nothing returning id",
        (openid, cust_id),
    ).fetchone()
    return row is not None


def live_bindings(conn: Connection, openid: str, cust_id: str) -> list[dict]:
    """The live rows that hold ``openid`` or ``cust_id``."""
    return conn.execute(
        "select rtrim(openid) as openid, rtrim(cust_id) as cust_id from bank_customers"
        " where not deleted and (openid = %s or cust_id = %s)",
        (openid, cust_id),
    ).fetchall()


def all_customers(conn: Connection) -> dict[str, str]:
    """Every live binding as ``{openid: cust_id}``."""
    rows = conn.execute("select rtrim(openid) as openid, rtrim(cust_id) as cust_id"
                        " from bank_customers where not deleted")
    return {row["openid"]: row["cust_id"] for row in rows}


def insert_netsave(conn: Connection, cust_id: str, ord_id: str, data: dict) -> bool:
    """Store a recharge callback once per ``ord_id``; True when this call inserted it."""
    row = conn.execute(
        "insert into bank_netsave (cust_id, ord_id, data) values (%s, %s, %s)"
        " on conflict (ord_id) do nothing returning id",
        (cust_id, ord_id, Json(data, dumps=partial(json.dumps, ensure_ascii=False))),
    ).fetchone()
    return row is not None


def find_netsave(conn: Connection, ord_id: str) -> dict | None:
    """The stored recharge callback for ``ord_id``: ``cust_id``, ``data``, ``done``."""
    return conn.execute(
        "select rtrim(cust_id) as cust_id, data, done from bank_netsave where ord_id = %s", (ord_id,)
    ).fetchone()


def lock_workable_netsaves(conn: Connection, limit: int, exclude: list) -> list[dict]:
    """Lock up to ``limit`` open rows that can be processed now, skipping rows others hold.

    Workable: a failed recharge (to be closed), or a successful one whose customer is known.
    ``openid`` comes from the live binding of the row's cust_id (None for failed recharges of
    unknown customers). ``exclude`` lists ids already tried in this pass.
    """
    return conn.execute(
        "select n.id, rtrim(n.ord_id) as ord_id, rtrim(n.cust_id) as cust_id, n.data, rtrim(c.openid) as openid"
        " from bank_netsave n left join bank_customers c on c.cust_id = n.cust_id and not c.deleted"
        " where not n.done and not n.deleted and n.id <> all(%s)"
        "   and (c.id is not null or coalesce(n.data->>'RespCode', '') <> '000')"
        " order by n.updated_at limit %s for update of n skip locked",
        (exclude, limit),
    ).fetchall()


def mark_done(conn: Connection, netsave_id) -> None:
    conn.execute("update bank_netsave set done = true, updated_at = now() where id = %s", (netsave_id,))


def postpone(conn: Connection, netsave_id) -> None:
    """Move a row that failed for now to the back of the queue so it cannot starve others."""
    conn.execute("update bank_netsave set updated_at = now() where id = %s", (netsave_id,))


def open_netsaves(conn: Connection, limit: int = 1000) -> list[dict]:
    """Rows not done yet, oldest first, with the live openid of their customer (None when unknown)."""
    return conn.execute(
        "select rtrim(n.ord_id) as ord_id, rtrim(n.cust_id) as cust_id, rtrim(c.openid) as openid,"
        "       n.data->>'RespCode' as resp_code, n.data->>'TransAmt' as trans_amt, n.created_at"
        " from bank_netsave n left join bank_customers c on c.cust_id = n.cust_id and not c.deleted"
        " where not n.done and not n.deleted order by n.created_at limit %s",
        (limit,),
    ).fetchall()


def netsave_backlog(conn: Connection) -> list[dict]:
    """Recharge callbacks not credited yet, by whether their customer is known (for /metrics)."""
    return conn.execute(
        "select (c.id is not null) as customer_known, count(*) as rows, "
        "       coalesce(extract(epoch from now() - min(n.created_at)), 0)::float as oldest_seconds"
        " from bank_netsave n left join bank_customers c on c.cust_id = n.cust_id and not c.deleted"
        " where not n.done and not n.deleted group by 1"
    ).fetchall()


def customer_count(conn: Connection) -> int:
    """Live customers (for /metrics)."""
    return conn.execute("select count(*) as n from bank_customers where not deleted").fetchone()["n"]


def claim_transaction(conn: Connection, trx_id: str, cmd_id: str, signed: dict) -> dict | None:
    """Record bank transaction ``trx_id`` as this callback; None when it is new, else the callback
    stored under it before (``cmd_id``, ``signed``)."""
    row = conn.execute(
        "insert into huifu_transaction (trx_id, cmd_id, signed) values (%s, %s, %s)"
        " on conflict (trx_id) do nothing returning trx_id",
        (trx_id, cmd_id, Jsonb(signed)),
    ).fetchone()
    return None if row is not None else find_transaction(conn, trx_id)


def find_transaction(conn: Connection, trx_id: str) -> dict | None:
    """The callback stored for bank transaction ``trx_id``: ``cmd_id``, ``signed``."""
    return conn.execute("select cmd_id, signed from huifu_transaction where trx_id = %s", (trx_id,)).fetchone()


def record_anomaly(conn: Connection, kind: str, trx_id: str, cmd_id: str, detail: str, fields: dict,
                   fingerprint: str) -> None:
    """Keep a refused signed callback for an operator; the same one again counts up (and reopens it)."""
    conn.execute(
        "insert into huifu_anomaly (kind, trx_id, cmd_id, detail, fields, fingerprint)"
        " values (%s, %s, %s, %s, %s, %s)"
        " on conflict (fingerprint) do update set occurrences = huifu_anomaly.occurrences + 1,"
        "   last_seen = now(), resolved_at = null",
        (kind, trx_id, cmd_id, detail, Jsonb(fields), fingerprint),
    )


def anomalies(conn: Connection, include_resolved: bool, limit: int) -> list[dict]:
    """Anomalies, oldest first: only the open ones unless ``include_resolved``."""
    return conn.execute(
        "select id, kind, trx_id, cmd_id, detail, fields, occurrences, first_seen, last_seen, resolved_at"
        " from huifu_anomaly where %s or resolved_at is null order by first_seen, id limit %s",
        (include_resolved, limit),
    ).fetchall()


def resolve_anomalies(conn: Connection, ids: list[int]) -> int:
    """Mark open anomalies ``ids`` as resolved; how many were."""
    return conn.execute("update huifu_anomaly set resolved_at = now() where id = any(%s) and resolved_at is null",
                        (ids,)).rowcount


def open_anomaly_counts(conn: Connection) -> list[dict]:
    """Open anomalies by kind (for /metrics)."""
    return conn.execute("select kind, count(*) as n from huifu_anomaly where resolved_at is null group by kind"
                        ).fetchall()
