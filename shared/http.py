"""Outgoing HTTP between services: a pooled session carrying the service token and request id."""
import requests
from requests.adapters import HTTPAdapter

from shared.auth import service_headers
from shared.logs import REQUEST_ID_HEADER, current_request_id


class ServiceClient:
    """Calls one internal service at ``base_url`` with the caller's service credentials."""

    def __init__(self, base_url: str, config: dict, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # internal calls: no proxy or netrc lookup from the environment per call
        self.session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=16))
        self.session.headers.update(service_headers(config))

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a request; connection problems raise ``requests.RequestException`` for the caller to map."""
        headers = kwargs.pop("headers", {})
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        return self.session.request(method, f"{self.base_url}{path}", headers=headers,
                                    timeout=kwargs.pop("timeout", self.timeout), **kwargs)

    def post(self, path: str, json: dict, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)
