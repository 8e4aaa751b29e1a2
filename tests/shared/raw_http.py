"""HTTP requests with exact bytes: a request target, headers and a body that no client library re-encodes
(raw non-ASCII bytes, invalid percent-escapes, control characters), as a hostile caller sends them."""
import http.client
import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def send(url: str, method: str, target: bytes | str, headers: dict | list | None = None, body: bytes = b"",
         timeout: float = 10) -> RawAnswer:
    """Send one request to the server of ``url`` with ``target`` (path and query) and ``headers`` exactly as
    given (a dict, or a list of pairs to repeat a name; values as bytes or Latin-1 text) and answer its
    status, headers and body."""
    parts = urlsplit(url)
    if isinstance(target, str):
        target = target.encode("latin-1")
    lines = [method.encode("ascii") + b" " + target + b" HTTP/1.1", b"Host: " + parts.netloc.encode("ascii"),
             b"Connection: close", b"Content-Length: " + str(len(body)).encode("ascii")]
    for name, value in headers.items() if isinstance(headers, dict) else headers or ():
        lines.append(name.encode("ascii") + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return RawAnswer(response.status, response.headers, response.read())
