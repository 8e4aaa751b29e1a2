"""Calls to the lending partner: pulling an order's credit data, and delivering signed callbacks.

The partner is outside the platform: these calls never carry the platform's service token.
"""
import json
import time

import urllib3
from urllib3.exceptions import HTTPError

from shared.partner_envelope import seal

from lending.answers import json_object


class PartnerUnavailable(Exception):
    """The partner did not answer usefully; try again later."""


class Partner:
    def __init__(self, config: dict):
        self.data_url = config["PARTNER_URL"].rstrip("/")
        self.callback_url = config["PARTNER_CALLBACK_URL"]
        self.app_id, self.secret = config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"]
        seconds = config["PARTNER_TIMEOUT_SECONDS"]
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=urllib3.Timeout(connect=seconds, read=seconds))

    def credit_data(self, order_no: str, kind: str) -> dict:
        """``GET <PARTNER_URL>/data/<orderNo>/<kind>``: a JSON object."""
        try:
            response = self.http.request("GET", f"{self.data_url}/data/{order_no}/{kind}", redirect=False)
        except HTTPError as exc:
            raise PartnerUnavailable(f"credit data {kind}: {exc.__class__.__name__}") from exc
        if response.status != 200:
            raise PartnerUnavailable(f"credit data {kind}: HTTP {response.status}")
        body = json_object(response.data)
        if not body:
            raise PartnerUnavailable(f"credit data {kind}: not a JSON object")
        return body

    def deliver(self, biz: dict) -> None:
        """POST one callback in a freshly stamped envelope; returns only once the partner answered
        ``{"code": 0}``, else raises :class:`PartnerUnavailable` with what it said."""
        envelope = seal(biz, self.app_id, self.secret, int(time.time() * 1000))
        try:
            response = self.http.request("POST", self.callback_url, body=json.dumps(envelope, ensure_ascii=False),
                                         headers={"Content-Type": "application/json"}, redirect=False)
        except HTTPError as exc:
            raise PartnerUnavailable(exc.__class__.__name__) from exc
        answer = json_object(response.data)
        if response.status != 200 or type(answer.get("code")) is not int or answer["code"] != 0:
            raise PartnerUnavailable(f"HTTP {response.status}: {response.data[:200]!r}")
