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
import time
from typing import Callable

import pika
import pika.exceptions
from flask import Flask
from psycopg_pool import ConnectionPool

from shared.metrics import add_gauge
from shared.messaging import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_QUEUE

from user_center.repository import requests, stats

STATUS_NAMES = {requests.PENDING: "pending", requests.SUCCESS: "success", requests.FAILED: "failed"}
BROKER_TIMEOUT_SECONDS = 2


class _PerScrape:
    """Calls ``read`` at most once a second, so that the gauges of one scrape share one query."""

    def __init__(self, read: Callable[[], object]):
        self.read = read
        self.value = None
        self.read_at = float("-inf")

    def __call__(self):
        if time.monotonic() - self.read_at > 1:
            self.value, self.read_at = self.read(), time.monotonic()
        return self.value


def queue_depths(amqp_url: str) -> dict[str, int]:
    """Ready messages in the notification queue and the DLQ (passive declares on a short-lived
    connection; a queue not declared yet counts 0)."""
    params = pika.URLParameters(amqp_url)
    params.connection_attempts, params.socket_timeout = 1, BROKER_TIMEOUT_SECONDS
    params.blocked_connection_timeout = params.stack_timeout = BROKER_TIMEOUT_SECONDS
    params.client_properties = {"connection_name": "user-center-metrics"}
    connection = pika.BlockingConnection(params)
    depths = {}
    try:
        for queue in (GATEWAY_NOTIFY_QUEUE, GATEWAY_NOTIFY_DLQ):
            channel = connection.channel()
            try:
                depths[queue] = channel.queue_declare(queue, passive=True).method.message_count
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:  # 404: nobody declared it yet
                depths[queue] = 0
    finally:
        connection.close()
    return depths


def install(app: Flask, pool: ConnectionPool, amqp_url: str) -> None:
    """Register user-center's gauges on the app's /metrics."""

    def read_requests() -> list[dict]:
        with pool.connection() as conn:
            return stats.requests_by_status(conn)

    def scalar(query) -> Callable[[], int]:
        def read() -> int:
            with pool.connection() as conn:
                return query(conn)
        return read

    rows = _PerScrape(read_requests)
    depths = _PerScrape(lambda: queue_depths(amqp_url))

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
              scalar(stats.anomalies))
    add_gauge(app, "user_center_withdraw_holds_waiting", "withdraw holds waiting to be released",
              scalar(stats.holds_waiting))
    add_gauge(app, "user_center_queue_messages", "ready messages in the gateway notification queue and its DLQ",
              lambda: [({"queue": queue}, count) for queue, count in depths().items()])
