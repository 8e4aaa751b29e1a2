"""Device cookies (OWASP's "slow down online guessing attacks with device cookies").

A successful login gives the browser a cookie that names the account and this device:
``v1.<userNo>.<device id>.<expires, unix seconds>.<HMAC-SHA256>``, signed with a key derived from
``TOKEN_SECRET`` for this purpose only (an access token is never a valid device cookie, nor the
reverse). The server keeps nothing: the signature and the expiry inside it decide, whatever the
cookie's own Max-Age says. A cookie is valid only for the account it names.
"""
import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from shared.contract import USER_NO_PATTERN

COOKIE_NAME = "uc_device"
COOKIE_PATH = "/tokens"  # only the login reads it
_VERSION = "v1"
_SHAPE = re.compile(rf"v1\.({USER_NO_PATTERN})\.([A-Za-z0-9_-]{{22}})\.([0-9]{{1,12}})\.([A-Za-z0-9_-]{{43}})")


@dataclass(frozen=True)
class Device:
    """A device that logged in to ``user_no`` before; ``device_id`` keys its own failure budget."""

    user_no: str
    device_id: str


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"user-center device cookie", hashlib.sha256).digest()


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue(secret: str, user_no: str, ttl_seconds: int, now: float | None = None) -> str:
    """A new cookie value for ``user_no`` with a fresh device id, valid for ``ttl_seconds``."""
    device_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")
    expires = int(now if now is not None else time.time()) + ttl_seconds
    body = f"{_VERSION}.{user_no}.{device_id}.{expires}"
    return f"{body}.{_mac(secret, body)}"


def read(secret: str, value: str | None, now: float | None = None) -> Device | None:
    """The device a cookie value vouches for, or ``None`` (absent, malformed, forged or expired)."""
    shape = _SHAPE.fullmatch(value or "")
    if shape is None:
        return None
    user_no, device_id, expires, mac = shape.groups()
    genuine = hmac.compare_digest(mac, _mac(secret, value.rsplit(".", 1)[0]))
    if not genuine or int(expires) <= (now if now is not None else time.time()):
        return None
    return Device(user_no, device_id)
