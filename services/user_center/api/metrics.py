"""user-center's gauges on /metrics, computed when Prometheus scrapes (every gunicorn worker reports
the same truth, read from the database and the broker).

| gauge | labels | meaning |
|---|---|---|
| ``user_center_requests`` | kind, status | requests by kind (PERSONAL_REGISTER, RECHARGE, WITHDRAW) and callback status (pending, success, failed) |
| ``user_center_notifications_applied`` | kind | requests the consumer settled with a bank result |
| ``user_center_oldest_pending_request_seconds`` | kind | age of the oldest pending request (0 when none) |
| ``user_center_gateway_notify_anomalies`` | | bank results recorded instead of applied |
| ``user_center_withdraw_holds_waiting`` | | withdraw holds not released yet |
| ``user_center_queue_messages`` | queue | ready messages in the notification queue and its DLQ |

A source that cannot be read (database or RabbitMQ down) leaves its gauges out of that scrape.
"""
from typing import Callable

from flask import Flask
from psycopg_pool import ConnectionPool

from shared.messaging import queue_depths
from shared.metrics import PerScrape, add_gauge, db_gauge

from user_center.repository import requests, stats

STATUS_NAMES = {requests.PENDING: "pending", requests.SUCCESS: "success", requests.FAILED: "failed"}


def install(app: Flask, pool: ConnectionPool, amqp_url: str) -> None:
    """Register user-center's gauges on the app's /metrics."""
    rows = PerScrape(db_gauge(pool, stats.requests_by_status))
    depths = PerScrape(lambda: queue_depths(amqp_url, "user-center-metrics"))

    def per_kind(value: Callable[[list[dict]], float]) -> Callable[[], list]:
        return lambda: [({"kind": kind}, value([r for r in rows() if r["kind"] == kind])) for kind in requests.TABLES]

    def by_status():
        counts = {(row["kind"], row["callback_status"]): row["n"] for row in rows()}
        return [({"kind": kind, "status": name}, counts.get((kind, status), 0))
                for kind in requests.TABLES for status, name in STATUS_NAMES.items()]

    add_gauge(app, "user_center_requests", "requests by kind and callback status", by_status)
    add_gauge(app, "user_center_notifications_applied", "requests settled by a bank result the consumer applied",
              per_kind(lambda kind_rows: sum(row["notified"] for row in kind_rows)))
    add_gauge(app, "user_center_oldest_pending_request_seconds", "age of the oldest pending request, 0 when none",
              per_kind(lambda kind_rows: next((row["oldest_s"] for row in kind_rows
                                               if row["callback_status"] == requests.PENDING), 0)))
    add_gauge(app, "user_center_gateway_notify_anomalies", "bank results recorded as anomalies instead of applied",
              db_gauge(pool, stats.anomalies))
    add_gauge(app, "user_center_withdraw_holds_waiting", "withdraw holds waiting to be released",
              db_gauge(pool, stats.holds_waiting))
    add_gauge(app, "user_center_queue_messages", "ready messages in the gateway notification queue and its DLQ",
              lambda: [({"queue": queue}, count) for queue, count in depths().items()])
