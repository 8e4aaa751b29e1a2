"""The bank's server API: ``POST /service`` (the transaction services) and ``GET /service/query`` (its signed
view of one request, for compensation)."""
import json
import logging
from urllib.parse import quote_plus

import requests
import urllib3

from shared.contract import QUERY_UNKNOWN_CODE, TRANSACTION_ANSWER_FIELDS, TRANSACTION_SERVICE_PATH
from shared.http import POOL_SIZE

log = logging.getLogger(__name__)
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Percent-encoding of every ASCII character but the unreserved ones, as urlencode's quote_plus(safe="") writes
# it, done by str.translate: urlencode quotes a Base64 value character by character in Python.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_QUOTED = {**{code: f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED}, ord(" "): "+"}


def form_body(form: dict) -> str:
    """``form`` as an application/x-www-form-urlencoded body (the same text as ``urlencode(form)``)."""
    return "&".join(f"{name}={value.translate(_QUOTED) if value.isascii() else quote_plus(value, safe='')}"
                    for name, value in form.items())


class BankQueryError(Exception):
    """The bank could not be asked, or answered something that is not a query result."""


class BankQuery:
    """Asks the bank about one request (docs/protocols.md, "The bank's query answers")."""

    def __init__(self, config: dict):
        self.url = f"{config['BANK_SANDBOX_URL'].rstrip('/')}/service/query"
        self.platform_no = config["PLATFORM_NO"]
        self.timeout = config["BANK_QUERY_TIMEOUT_SECONDS"]
        self.session = requests.Session()

    def fetch(self, request_no: str) -> tuple[bool, dict]:
        """``(known, answer)``, not yet verified: ``(True, {serviceName, platformNo, reqData, signature})``, the
        bank's view of the request, or ``(False, {respData, signature})``, its signed answer that it does not
        know the request (404). Anything else, a bare 404 included, is a :class:`BankQueryError`: only the
        bank's signature may say that a request never reached it."""
        try:
            response = self.session.get(self.url, params={"platformNo": self.platform_no, "requestNo": request_no},
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            raise BankQueryError(f"bank unreachable: {exc.__class__.__name__}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BankQueryError(f"bank answered {response.status_code} without a JSON object")
        if response.status_code == 404 and body.get("code") == QUERY_UNKNOWN_CODE:
            if not all(isinstance(body.get(name), str) and body[name] for name in TRANSACTION_ANSWER_FIELDS):
                raise BankQueryError("bank answered 404 (908) without its signed unknown answer")
            return False, {name: body[name] for name in TRANSACTION_ANSWER_FIELDS}
        if response.status_code != 200:
            raise BankQueryError(f"bank answered {response.status_code}: {str(body.get('msg'))[:200]}")
        message = {name: body.get(name) for name in ("serviceName", "platformNo", "reqData", "signature")}
        if not all(isinstance(value, str) and value for value in message.values()):
            raise BankQueryError("bank answer lacks serviceName, platformNo, reqData or signature")
        return True, message


class BankService:
    """Sends a signed transaction service request to the bank's ``POST /service`` (docs/protocols.md,
    "Transaction services"), over kept-alive connections (urllib3's pool of the bank's host directly: half the
    CPU of requests per call, and no URL parsed again at each)."""

    def __init__(self, config: dict):
        base = config["BANK_SANDBOX_URL"].rstrip("/")
        self.path = urllib3.util.parse_url(base).path or ""
        self.path += TRANSACTION_SERVICE_PATH
        self.timeout = urllib3.Timeout(total=config["BANK_SERVICE_TIMEOUT_SECONDS"])
        self.pool = urllib3.connection_from_url(base, maxsize=POOL_SIZE)

    def send(self, form: dict) -> dict | None:
        """The bank's answer as a JSON object, not yet verified; None when no JSON object came back within
        BANK_SERVICE_TIMEOUT_SECONDS (unreachable, timed out, the connection closed, a proxy's error page):
        the request may or may not have been recorded, which only the bank's query can tell. Never sent
        twice here: a repeat is the caller's (the bank answers a recorded requestNo with its result)."""
        try:
            response = self.pool.urlopen("POST", self.path, body=form_body(form), headers=_FORM, timeout=self.timeout,
                                         retries=False)
        except urllib3.exceptions.HTTPError as exc:
            log.info("no answer from the bank for %s: %s", form["serviceName"], exc.__class__.__name__)
            return None
        try:
            body = json.loads(response.data)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.info("the bank answered %s %s without a JSON object", form["serviceName"], response.status)
            return None
        return body
