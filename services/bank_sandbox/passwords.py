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
# Guessed first whatever the rules below say (keyboard rows, mirrored or doubled runs).
_COMMON = frozenset({"112233", "123321", "147258", "147369", "159357", "258369", "abc123", "a123456",
                     "qwerty", "qwe123", "asdfgh", "password", "passw0rd", "iloveyou"})


def check_policy(password: str, personal: tuple[str, ...] = ()) -> None:
    """Refuse a new transaction password that is too short, too long, has control characters, or is
    guessable: one character repeated (111111), a run (123456, 654321, abcdef, 890123), a short block
    repeated (121212, 123123), a well-known one, or part of the user's ``personal`` numbers (ID,
    mobile, card)."""
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise BadRequest(f"the transaction password must have {MIN_LENGTH} to {MAX_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise BadRequest("the transaction password must not contain control characters")
    weakness = _weakness(password.lower(), [value.lower() for value in personal if value])
    if weakness:
        raise BadRequest(f"the transaction password is too easy to guess ({weakness}); choose another")


def _weakness(password: str, personal: list[str]) -> str | None:
    steps = {(ord(b) - ord(a)) % (10 if (a + b).isdigit() else 0x110000) for a, b in zip(password, password[1:])}
    if len(steps) == 1 and steps <= {1, 9, 0x10FFFF}:
        return "a run of consecutive characters"
    for size in range(1, len(password) // 2 + 1):
        if len(password) % size == 0 and password == password[:size] * (len(password) // size):
            return "one character repeated" if size == 1 else "a short block repeated"
    if password in _COMMON:
        return "a well-known password"
    if any(password in value for value in personal):
        return "part of your ID, mobile or card number"
    return None


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
