"""``bank_netsave``: recharge callbacks, and the crediting worker's queue of those not done yet."""
import json
from functools import partial

from psycopg import Connection
from psycopg.types.json import Json

# Rows the worker can process now: a failed recharge (to be closed), or a successful one whose customer
# is known. ``n`` is bank_netsave, ``c`` the live binding of its cust_id.
_WORKABLE = ("not n.done and not n.deleted"
             " and (c.id is not null or coalesce(n.data->>'RespCode', '') <> '000')")
_WITH_CUSTOMER = " from bank_netsave n left join bank_customers c on c.cust_id = n.cust_id and not c.deleted"


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
    """Lock up to ``limit`` workable rows, skipping rows others hold; ``exclude`` lists ids already tried
    in this pass.

    ``openid`` comes from the live binding of the row's cust_id (None for failed recharges of unknown
    customers).
    """
    return conn.execute(
        "select n.id, rtrim(n.ord_id) as ord_id, rtrim(n.cust_id) as cust_id, n.data, rtrim(c.openid) as openid"
        f"{_WITH_CUSTOMER} where {_WORKABLE} and n.id <> all(%s)"
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
        f"{_WITH_CUSTOMER} where not n.done and not n.deleted order by n.created_at limit %s",
        (limit,),
    ).fetchall()


def netsave_backlog(conn: Connection) -> list[dict]:
    """Recharge callbacks not credited yet, by whether their customer is known (for /metrics)."""
    return conn.execute(
        "select (c.id is not null) as customer_known, count(*) as rows, "
        "       coalesce(extract(epoch from now() - min(n.created_at)), 0)::float as oldest_seconds"
        f"{_WITH_CUSTOMER} where not n.done and not n.deleted group by 1"
    ).fetchall()
