"""``bank_customers``: the live bindings openid (UsrId) -> bank customer id (UsrCustId)."""
from psycopg import Connection


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


def customer_count(conn: Connection) -> int:
    """Live customers (for /metrics)."""
    return conn.execute("select count(*) as n from bank_customers where not deleted").fetchone()["n"]
