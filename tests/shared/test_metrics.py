"""/metrics: request counters and latency, scrape-time gauges, and gunicorn's multiprocess mode."""
import requests
from flask import jsonify

from shared.metrics import PerScrape, add_gauge
from shared.web import create_base_app


def _app():
    app = create_base_app("metrics-test", {"LOG_LEVEL": "WARNING"}, "t")

    @app.get("/hello/<name>")
    def hello(name):
        return jsonify(name=name)

    add_gauge(app, "pending_things", "things waiting", lambda: 7)
    add_gauge(app, "things_by_state", "things per state", lambda: [({"state": "a"}, 1), ({"state": "b"}, 2)])
    add_gauge(app, "broken_source", "a gauge whose source is down", lambda: 1 / 0)
    return app


def test_requests_are_counted_by_route_template_and_gauges_read_at_scrape():
    client = _app().test_client()
    client.get("/hello/x")
    client.get("/hello/y")
    client.get("/nowhere")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="/hello/<name>",method="GET",service="metrics-test",status="200"}' in text
    assert 'endpoint="unmatched"' in text and 'status="404"' in text
    assert 'http_request_duration_seconds_bucket{endpoint="/hello/<name>"' in text
    assert "pending_things 7.0" in text
    assert 'things_by_state{state="b"} 2.0' in text
    assert "broken_source" not in text


def test_gauges_of_one_scrape_share_one_read_and_every_scrape_reads_afresh():
    reads = []

    def read() -> dict:
        reads.append(len(reads) + 1)
        return {"unsent": 10 * len(reads), "lag": len(reads)}

    app = create_base_app("metrics-test", {"LOG_LEVEL": "WARNING"}, "t")
    shared_read = PerScrape(read)
    add_gauge(app, "outbox_unsent", "unsent", lambda: shared_read()["unsent"])
    add_gauge(app, "outbox_lag", "lag", lambda: shared_read()["lag"])
    client = app.test_client()
    first = client.get("/metrics").get_data(as_text=True)
    assert "outbox_unsent 10.0" in first and "outbox_lag 1.0" in first and reads == [1]
    second = client.get("/metrics").get_data(as_text=True)  # at once: no stale value from the first scrape
    assert "outbox_unsent 20.0" in second and "outbox_lag 2.0" in second and reads == [1, 2]
    assert shared_read()["lag"] == 3  # outside a scrape: read on every call


def test_gunicorn_workers_are_merged(procs, infra):
    """Several gunicorn workers count into one /metrics through the multiprocess directory."""
    service = procs.web("beanpay_ledger", infra.service_env("beanpay_ledger"), workers=3)

    def healthz_count() -> float:
        text = requests.get(f"{service.url}/metrics").text
        line = next(l for l in text.splitlines() if l.startswith("http_requests_total{") and '"/healthz"' in l)
        return float(line.rsplit(" ", 1)[1])

    before = healthz_count()  # the start-up probes
    for _ in range(30):
        assert requests.get(f"{service.url}/healthz").status_code == 200  # new connections: spread over workers
    assert healthz_count() == before + 30
