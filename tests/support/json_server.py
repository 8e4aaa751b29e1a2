"""A stand-in HTTP server on a free loopback port that answers every GET and POST with JSON chosen by the test."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# (method, path with query, request body) -> (HTTP status, a JSON value or raw bytes)
Answer = Callable[[str, str, bytes], tuple[int, object]]


class JsonServer:
    """Serves ``answer`` on ``url`` from a daemon thread until :meth:`stop`."""

    def __init__(self, answer: Answer):
        def handle(handler: BaseHTTPRequestHandler) -> None:
            length = int(handler.headers.get("Content-Length") or 0)
            status, body = answer(handler.command, handler.path, handler.rfile.read(length))
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

        class Handler(BaseHTTPRequestHandler):
            do_GET = do_POST = handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
