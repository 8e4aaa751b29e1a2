"""Outgoing HTTP between services: a pool of keep-alive connections carrying the service token and
request id.

Built on urllib3 directly rather than a ``requests`` session: a service call is on the request path of
user-center (gateway request creation calls the agent), and ``requests`` spends about as much CPU again
as urllib3 on each call for what these calls do not use (cookies, hooks, redirects, environment
settings); docs/performance.md has the measurement.
"""
import json as jsonlib
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError

from shared.auth import service_headers
from shared.logs import REQUEST_ID_HEADER, current_request_id

POOL_SIZE = 16  # connections kept per target: a gunicorn worker's threads call in parallel


class ServiceUnreachable(Exception):
    """No answer: the connection failed, broke or timed out. ``kind`` names the urllib3 error."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class ServiceResponse:
    """An answer of an internal service: ``status_code``, the raw ``content``, ``text`` and ``json()``."""

    __slots__ = ("status_code", "content")

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        """The body as JSON; ``ValueError`` when it is not JSON."""
        return jsonlib.loads(self.content)


def json_object(raw: bytes) -> dict:
    """A peer's answer as a JSON object; ``{}`` when it is not one, so that no result is read out of it."""
    try:
        value = jsonlib.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


class ServiceClient:
    """Calls one internal service at ``base_url`` with the caller's service credentials."""

    def __init__(self, base_url: str, config: dict, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.prefix = parts.path
        pool_class = urllib3.HTTPSConnectionPool if parts.scheme == "https" else urllib3.HTTPConnectionPool
        self.pool = pool_class(parts.hostname, parts.port, maxsize=POOL_SIZE, block=False, retries=False)
        self.timeout = timeout
        self.headers = {"Accept": "application/json", **service_headers(config)}

    def request(self, method: str, path: str, json: dict | None = None, params: dict | None = None,
                timeout: float | None = None) -> ServiceResponse:
        """Send a request (no retry, no redirect); :class:`ServiceUnreachable` when no answer came."""
        headers = dict(self.headers)
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        body = None
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        url = self.prefix + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        seconds = self.timeout if timeout is None else timeout
        try:
            answer = self.pool.urlopen(method, url, body=body, headers=headers, redirect=False,
                                       timeout=urllib3.Timeout(connect=seconds, read=seconds))
        except HTTPError as exc:
            raise ServiceUnreachable(exc.__class__.__name__, str(exc)) from exc
        return ServiceResponse(answer.status, answer.data)

    def post(self, path: str, json: dict, **kwargs) -> ServiceResponse:
        return self.request("POST", path, json=json, **kwargs)

    def get(self, path: str, **kwargs) -> ServiceResponse:
        return self.request("GET", path, **kwargs)
