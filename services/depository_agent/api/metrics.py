"""The agent's own Prometheus metrics, beside the HTTP ones every service has (``shared.metrics``).

Gauges are read from the database when /metrics is scraped, so every gunicorn worker reports the
same truth; the notification counter is per process and merged by the multiprocess collector.
"""
from flask import Flask
from prometheus_client import Counter
from psycopg_pool import ConnectionPool

from shared.metrics import PerScrape, add_gauge, db_gauge

from depository_agent.repository import exceptions, outbox, records
from depository_agent.notifications import CONFLICTING, DUPLICATE, SETTLED
from depository_agent.wanxin import SERVICE_NAMES

REQUEST_TYPES = tuple(SERVICE_NAMES)
EXCEPTION_KINDS = (exceptions.CONFLICTING_RESULT, exceptions.COMPENSATION_FAILED)

NOTIFICATIONS = Counter("depository_agent_notifications", "Bank notifications received at /gateway, by outcome",
                        ["outcome"])
# settle() outcome -> label; a notification refused with a 4xx is counted as "refused".
OUTCOMES = {SETTLED: "accepted", DUPLICATE: "duplicate", CONFLICTING: "anomaly"}
REFUSED = "refused"


def count_notification(outcome: str) -> None:
    """Count one notification: a settle() outcome, or REFUSED."""
    NOTIFICATIONS.labels(OUTCOMES.get(outcome, outcome)).inc()


def _labelled(label: str, names: tuple, counts: dict) -> list[tuple[dict, float]]:
    """Every known label value, zero when absent, so that a series never disappears."""
    return [({label: name}, counts.get(name, 0)) for name in names]


def install(app: Flask, pool: ConnectionPool) -> None:
    """Register the agent's scrape-time gauges on the app's /metrics."""
    backlog = PerScrape(db_gauge(pool, outbox.backlog))
    add_gauge(app, "depository_agent_records_pending", "Records waiting for the bank's result, by request type",
              db_gauge(pool, lambda conn: _labelled("request_type", REQUEST_TYPES,
                                                    records.pending_by_type(conn))))
    add_gauge(app, "depository_agent_oldest_pending_age_seconds", "Age of the oldest record still pending",
              db_gauge(pool, records.oldest_pending_age))
    add_gauge(app, "depository_agent_outbox_unsent", "Outbox messages not yet confirmed by RabbitMQ",
              lambda: backlog()["unsent"])
    add_gauge(app, "depository_agent_outbox_unroutable",
              "Unsent outbox messages RabbitMQ returned as unroutable (no queue bound): alert on any",
              lambda: backlog()["unroutable"])
    add_gauge(app, "depository_agent_outbox_lag_seconds", "Age of the oldest unsent outbox message (0: none)",
              lambda: backlog()["lag"])
    add_gauge(app, "depository_agent_exceptions_open", "Open exceptions for an operator, by kind",
              db_gauge(pool, lambda conn: _labelled("kind", EXCEPTION_KINDS, exceptions.open_by_kind(conn))))
