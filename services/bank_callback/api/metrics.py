"""bank-callback's gauges on /metrics (docs/bank_callback.md, Metrics), read at scrape time."""
from flask import Flask
from psycopg_pool import ConnectionPool
from redis import RedisError

from shared.metrics import PerScrape, add_gauge, db_gauge

from bank_callback.anomalies import KINDS
from bank_callback.customer_cache import CustomerCache
from bank_callback.repository import anomalies, customers, netsaves


def install(app: Flask, pool: ConnectionPool, cache: CustomerCache) -> None:
    """Netsaves waiting to be credited (and the oldest one's age), the number of customers, open
    anomalies by kind, and whether the Redis copy of the customers can be reached."""
    backlog = PerScrape(db_gauge(pool, netsaves.netsave_backlog))

    def waiting():
        rows = {row["customer_known"]: row["rows"] for row in backlog()}
        return [({"customer_known": str(known).lower()}, rows.get(known, 0)) for known in (True, False)]

    def oldest():
        return max((row["oldest_seconds"] for row in backlog()), default=0.0)

    add_gauge(app, "bank_callback_netsave_uncredited", "recharge callbacks not credited yet, by customer known",
              waiting)
    add_gauge(app, "bank_callback_netsave_oldest_uncredited_seconds", "age of the oldest uncredited recharge", oldest)
    add_gauge(app, "bank_callback_customers", "live bank customers (openid bindings)",
              db_gauge(pool, customers.customer_count))

    read_anomalies = db_gauge(pool, anomalies.open_anomaly_counts)

    def open_anomalies():
        counts = {row["kind"]: row["n"] for row in read_anomalies()}
        return [({"kind": kind}, counts.get(kind, 0)) for kind in sorted({*KINDS, *counts})]

    def redis_up():
        try:
            cache.ping()
            return 1
        except RedisError:  # the copy is out of reach; callbacks go on without it
            return 0

    add_gauge(app, "bank_callback_anomalies_open", "signed callbacks refused as anomalies, not resolved yet",
              open_anomalies)
    add_gauge(app, "bank_callback_redis_up", "1 when the bank-customers cache (Redis) answers, else 0", redis_up)
