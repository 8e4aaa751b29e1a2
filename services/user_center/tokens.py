"""User access tokens: ``<payload b64url>.<HMAC-SHA256 b64url>``, payload ``{"sub": userNo, "exp": unix}``.

Stateless, so any number of processes verify them with the shared ``TOKEN_SECRET``.
"""
import base64
import binascii
import hashlib
import hmac
import json
import time

from shared.errors import Unauthorized

TOKEN_VERSION = 1


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).digest())


def issue_token(secret: str, user_no: str, ttl_seconds: int, now: float | None = None) -> str:
    """A signed token for ``user_no`` valid for ``ttl_seconds``."""
    issued = int(now if now is not None else time.time())
    claims = {"v": TOKEN_VERSION, "sub": user_no, "iat": issued, "exp": issued + ttl_seconds}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_mac(secret, payload)}"


def verify_token(secret: str, token: str, now: float | None = None) -> str:
    """The userNo of a valid, unexpired token; :class:`Unauthorized` otherwise."""
    payload, _, mac = (token or "").partition(".")
    if not payload or not mac or not hmac.compare_digest(mac.encode("utf-8"), _mac(secret, payload).encode("ascii")):
        raise Unauthorized("invalid access token")
    try:
        claims = json.loads(_unb64(payload))
        user_no, expires = claims["sub"], int(claims["exp"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Unauthorized("invalid access token") from None
    if expires <= (now if now is not None else time.time()):
        raise Unauthorized("access token expired, log in again")
    return user_no
