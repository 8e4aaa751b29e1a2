"""``bank_netsave``: recharge callbacks, and the crediting worker's queue of those not done yet.

A worker claims a row with a session-level advisory lock (class :data:`CLAIM_LOCK_CLASS`, key a hash of the
row's id), not a row lock: a claim outlives the short transactions around it, so the ledger is called
with no transaction open, and it ends with the session, so a worker that dies leaves nothing claimed.
"""
import json
from functools import partial

from psycopg import Connection
from psycopg.types.json import Json

from shared.contract import HUIFU_SUCCESS

# The first key of this service's advisory locks on bank_netsave rows (its port, as the ledger uses 8004).
CLAIM_LOCK_CLASS = 8003
# Rows the worker can process now: a failed recharge (to be closed), or a successful one whose customer
# is known. ``n`` is bank_netsave, ``c`` the live binding of its cust_id.
_WORKABLE = ("not n.done and not n.deleted"
             f" and (c.id is not null or coalesce(n.data->>'RespCode', '') <> '{HUIFU_SUCCESS}')")
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


def claim_workable(conn: Connection, limit: int, exclude: list) -> list[dict]:
    """The next ``limit`` workable rows not in ``exclude`` (oldest attempt first): ``id`` and ``claimed``,
    whether this session now holds the row's claim (False: another worker holds it).

    The claims are taken on exactly the rows returned: the limit is applied before the lock function
    runs. They last until :func:`release_claims`, across transactions.
    """
    return conn.execute(
        "select id, pg_try_advisory_lock(%s, hashtext(id::text)) as claimed"
        f" from (select n.id{_WITH_CUSTOMER} where {_WORKABLE} and n.id <> all(%s)"
        "       order by n.updated_at limit %s) candidates",
        (CLAIM_LOCK_CLASS, exclude, limit),
    ).fetchall()


def claimed_rows(conn: Connection, ids: list) -> list[dict]:
    """The rows among ``ids`` (claimed by this session) that are still workable, read after the claim.

    ``openid`` comes from the live binding of the row's cust_id (None for failed recharges of unknown
    customers).
    """
    return conn.execute(
        "select n.id, rtrim(n.ord_id) as ord_id, rtrim(n.cust_id) as cust_id, n.data, rtrim(c.openid) as openid"
        f"{_WITH_CUSTOMER} where {_WORKABLE} and n.id = any(%s) order by n.updated_at",
        (ids,),
    ).fetchall()


def release_claims(conn: Connection) -> None:
    """Give up every claim this session holds."""
    conn.execute("select pg_advisory_unlock_all()")


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
