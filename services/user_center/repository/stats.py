"""Counts for the metrics gauges, read at scrape time."""
from psycopg import Connection, sql

from user_center.repository.requests import TABLES


def requests_by_status(conn: Connection) -> list[dict]:
    """Per request kind and ``callback_status``: how many, how many a notification settled, and the
    age in seconds of the oldest (meaningful for the pending ones)."""
    union = sql.SQL(" union all ").join(
        sql.SQL("select {kind} as kind, callback_status, count(*) as n, count(notified_at) as notified,"
                " coalesce(extract(epoch from now() - min(created_at)), 0)::float as oldest_s"
                " from {table} group by callback_status").format(kind=sql.Literal(kind), table=sql.Identifier(table))
        for kind, table in TABLES.items())
    return conn.execute(union).fetchall()


def anomalies(conn: Connection) -> int:
    return conn.execute("select count(*) as n from gateway_notify_anomaly").fetchone()["n"]


def holds_waiting(conn: Connection) -> int:
    return conn.execute("select count(*) as n from withdraw_hold_release where released_at is null").fetchone()["n"]
