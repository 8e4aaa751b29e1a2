"""A stand-in for the depository agent and bank-callback: records every call, answers as scripted."""
import threading
import time
from dataclasses import dataclass, field
from typing import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict
    form: dict
    content_type: str
    at: float = field(default_factory=time.monotonic)


class Receiver:
    """An HTTP server on a free port; ``script`` holds (status, body) answers used first-in first-out,
    after which it answers like a healthy receiver (``OK`` / ``RECV_ORD_ID_<TrxId>``). ``during``, when
    set, runs with each call before it is answered (while the sender waits)."""

    def __init__(self):
        self.calls: list[Call] = []
        self.script: list[tuple[int, str]] = []
        self.during: Callable[[Call], None] | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                parts = urlsplit(self.path)
                call = Call("POST", parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                            dict(parse_qsl(body, keep_blank_values=True)), self.headers.get("Content-Type", ""))
                status, text = receiver.answer(call)
                encoded = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, call: Call) -> tuple[int, str]:
        if self.during is not None:
            self.during(call)
        with self.lock:
            self.calls.append(call)
            if self.script:
                return self.script.pop(0)
        if call.path == "/gateway":
            return 200, "OK"
        return 200, f"RECV_ORD_ID_{call.form.get('TrxId', '')}"

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.script.clear()
            self.during = None

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
