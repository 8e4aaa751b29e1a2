"""Transaction passwords, stored only as a slow salted scrypt hash.

Format ``scrypt$n$r$p$salt$hash`` (Base64 parts) so the cost can change without breaking old hashes.
"""
import base64
import hashlib
import hmac
import secrets

from shared.errors import BadRequest

MIN_LENGTH, MAX_LENGTH = 6, 32
_R, _P, _DKLEN = 8, 1, 32


def check_policy(password: str) -> None:
    """Refuse a new transaction password that is too short, too long or has control characters."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise BadRequest(f"the transaction password must have {MIN_LENGTH} to {MAX_LENGTH} characters")
    if any(ord(ch) < 32 for ch in password):
        raise BadRequest("the transaction password must not contain control characters")


def hash_password(password: str, n: int) -> str:
    """A fresh salted scrypt hash of ``password`` with cost ``n`` (a power of two)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, _R, _P)
    return "$".join(["scrypt", str(n), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time comparison)."""
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    candidate = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2, dklen=_DKLEN)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
