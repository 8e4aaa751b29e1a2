"""Prometheus metrics for every service: HTTP requests and latency, plus gauges read at scrape time.

Under gunicorn each worker is its own process, so counters live in the multiprocess directory
named by ``PROMETHEUS_MULTIPROC_DIR`` (``deploy/gunicorn.conf.py`` makes one per server) and
``/metrics`` merges them. Gauges that describe shared state (pending records, outbox lag) are
computed from the database at scrape time, so every worker reports the same truth.
"""
import contextvars
import logging
import os
import time
from typing import Callable, Iterable

from flask import Flask, Response, g, request
from psycopg_pool import ConnectionPool
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["service", "method", "endpoint", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "endpoint"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

# A gauge function returns a number, or (labels, value) pairs for a labelled family.
GaugeFunction = Callable[[], float | Iterable[tuple[dict, float]]]
# The scrape being collected (a fresh object per scrape), so that its gauges can share one read.
_SCRAPE: contextvars.ContextVar[object | None] = contextvars.ContextVar("metrics_scrape", default=None)


class _ScrapeGauges:
    """A collector that calls each registered gauge function when Prometheus scrapes."""

    def __init__(self, gauges: list[tuple[str, str, GaugeFunction]]):
        self.gauges = gauges

    def collect(self):
        scrape = _SCRAPE.set(object())
        try:
            yield from self._families()
        finally:
            _SCRAPE.reset(scrape)

    def _families(self):
        for name, help_text, function in self.gauges:
            try:
                value = function()
            except Exception as exc:  # a failing source must not hide the other metrics
                log.warning("metric %s unavailable: %s", name, exc)
                continue
            if isinstance(value, (int, float)):
                family = GaugeMetricFamily(name, help_text, value=value)
            else:
                pairs = list(value)
                labels = sorted(pairs[0][0]) if pairs else []
                family = GaugeMetricFamily(name, help_text, labels=labels)
                for label_values, number in pairs:
                    family.add_metric([str(label_values[key]) for key in labels], number)
            yield family


class PerScrape:
    """Calls ``read`` once per scrape, so that the gauges of one scrape share one query (outside a scrape,
    on every call)."""

    def __init__(self, read: Callable[[], object]):
        self.read = read
        self.scrape: object | None = None
        self.value = None

    def __call__(self):
        scrape = _SCRAPE.get()
        if scrape is None or scrape is not self.scrape:
            self.value, self.scrape = self.read(), scrape
        return self.value


def db_gauge(pool: ConnectionPool, query: Callable) -> Callable:
    """A gauge function: ``query(conn)`` in one short transaction on a connection of ``pool``, waiting at
    most 2 s for one (a busy pool leaves the gauge out of that scrape rather than hold the scrape)."""

    def read():
        with pool.connection(timeout=2) as conn, conn.transaction():
            return query(conn)
    return read


def observe_request(service: str, method: str, endpoint: str, status: int, seconds: float) -> None:
    """Count and time one answered request (for paths served outside Flask's hooks too)."""
    REQUESTS.labels(service, method, endpoint, str(status)).inc()
    LATENCY.labels(service, endpoint).observe(seconds)


def add_gauge(app: Flask, name: str, help_text: str, function: GaugeFunction) -> None:
    """Expose ``function``'s value as gauge ``name`` on the app's /metrics."""
    app.extensions["metric_gauges"].append((name, help_text, function))


def install_metrics(app: Flask, service: str) -> None:
    """Count and time every request (from ``g.started``, set by shared/web.py's request-id hook), and
    serve /metrics."""
    app.extensions["metric_gauges"] = []

    @app.after_request
    def _record(response):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.get("started", time.perf_counter())
        observe_request(service, request.method, endpoint, response.status_code, time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics():
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = REGISTRY
        registry_with_gauges = CollectorRegistry()
        registry_with_gauges.register(_ScrapeGauges(app.extensions["metric_gauges"]))
        body = generate_latest(registry) + generate_latest(registry_with_gauges)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
