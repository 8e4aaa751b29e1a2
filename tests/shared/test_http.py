"""The service client against a real HTTP server on loopback: what it sends, what it answers, and how it
reports a service that does not answer."""
import contextvars
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.http import ServiceClient, ServiceUnreachable, json_object
from shared.logs import bind_request_id

CONFIG = {"INTERNAL_TOKEN": "service-token"}


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON; ``/slow`` waits, ``/text`` is not JSON,
    ``/moved`` redirects."""

    def _answer(self):
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        if parts.path == "/text":
            payload, content_type, status = b"plain words", "text/plain", 503
        elif parts.path == "/moved":
            payload, content_type, status = b"{}", "application/json", 302
        else:
            payload = json.dumps({"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                                  "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}).encode()
            content_type, status = "application/json", 201
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if status == 302:
            self.send_header("Location", "/elsewhere")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the many-threads test connects 40 at once


@pytest.fixture(scope="module")
def server_url():
    server = Server(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_post_sends_compact_json_with_the_service_token_and_the_request_id(server_url):
    client = ServiceClient(server_url, CONFIG)

    def call():
        bind_request_id("req-123")
        return client.post("/l/recharges", json={"amount": "1.00", "name": "张三"})

    answer = contextvars.copy_context().run(call)
    assert answer.status_code == 201
    seen = answer.json()
    assert seen["method"] == "POST" and seen["path"] == "/l/recharges"
    assert json.loads(seen["body"]) == {"amount": "1.00", "name": "张三"} and " " not in seen["body"]
    assert seen["headers"]["authorization"] == "Bearer service-token"
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["x-request-id"] == "req-123"


def test_get_encodes_list_parameters_as_repeated_names_under_the_base_path(server_url):
    client = ServiceClient(f"{server_url}/prefix/", CONFIG)
    fresh = contextvars.Context()  # no request id bound, whatever earlier tests bound in this thread
    seen = fresh.run(client.get, "/internal/records", params={"requestNo": ["A", "B"], "size": 500}).json()
    assert seen["path"] == "/prefix/internal/records"
    assert seen["query"] == {"requestNo": ["A", "B"], "size": ["500"]}
    assert "x-request-id" not in seen["headers"]  # none bound outside a request


def test_a_body_that_is_not_json_is_a_value_error_and_readable_as_text(server_url):
    answer = ServiceClient(server_url, CONFIG).get("/text")
    assert answer.status_code == 503 and answer.text == "plain words"
    with pytest.raises(ValueError):
        answer.json()


def test_redirects_are_answered_not_followed(server_url):
    assert ServiceClient(server_url, CONFIG).get("/moved").status_code == 302


def test_a_refused_connection_and_a_timeout_are_unreachable(server_url):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(ServiceUnreachable) as refused:
        ServiceClient(f"http://127.0.0.1:{closed_port}", CONFIG).get("/healthz")
    assert refused.value.kind == "NewConnectionError"
    with pytest.raises(ServiceUnreachable) as slow:
        ServiceClient(server_url, CONFIG, timeout=0.2).get("/slow")
    assert slow.value.kind == "ReadTimeoutError"
    assert ServiceClient(server_url, CONFIG).get("/slow", timeout=5).status_code == 201


def test_calls_from_many_threads_share_the_pool(server_url):
    client = ServiceClient(server_url, CONFIG)
    answers, errors = [], []

    def call(n):
        try:
            answers.append(client.post("/echo", json={"n": n}).json()["body"])
        except Exception as exc:  # reported below rather than lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert sorted(json.loads(body)["n"] for body in answers) == list(range(40))


@pytest.mark.parametrize("raw, read", [(b'{"code": 0}', {"code": 0}), (b"[1]", {}), (b"null", {}), (b"", {}),
                                       (b"\xff{", {}), (b"<html>", {}), (b'"text"', {})])
def test_an_answer_is_read_as_a_json_object_or_as_nothing(raw, read):
    assert json_object(raw) == read
