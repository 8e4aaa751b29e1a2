"""The partner's calls to lending: ``POST <LENDING_URL>/rongshu/<name>`` in a freshly signed envelope."""
import json
import time

import urllib3
from urllib3.exceptions import HTTPError

from shared.contract import PARTNER_PATH_PREFIX
from shared.partner_envelope import seal


class Lending:
    def __init__(self, config: dict):
        self.base = config["LENDING_URL"].rstrip("/")
        self.app_id, self.secret = config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"]
        seconds = config["LENDING_TIMEOUT_SECONDS"]
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=urllib3.Timeout(connect=seconds, read=seconds))

    def call(self, name: str, biz: dict) -> tuple[int | None, dict]:
        """Lending's HTTP status and JSON answer; ``(None, {code, msg})`` when it did not answer."""
        envelope = seal(biz, self.app_id, self.secret, int(time.time() * 1000))
        try:
            response = self.http.request("POST", f"{self.base}{PARTNER_PATH_PREFIX}{name}",
                                         body=json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, redirect=False)
        except HTTPError as exc:
            return None, {"code": -1, "msg": f"lending did not answer: {exc.__class__.__name__}"}
        try:
            answer = json.loads(response.data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = {"code": -1, "msg": f"not JSON: {response.data[:200]!r}"}
        return response.status, answer
