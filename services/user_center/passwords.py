"""Password storage: scrypt with a random salt per password, compared in constant time.

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so the cost can be raised later
without invalidating existing hashes.
"""
import base64
import ctypes
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
_KEY_LEN = 32
_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def keep_hash_memory_returnable() -> None:
    """Make the 16 MiB an scrypt hash takes go back to the OS when it is freed.

    glibc raises its mmap threshold after freeing a large mmapped block, so later blocks of that size
    come from the heap and stay in the process: a worker that served logins on 8 threads kept
    ~130 MB more RSS for ever. Pinning the threshold (the default 128 KiB) keeps them mmapped.
    Does nothing outside glibc.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_LEN,
                          maxmem=256 * n * r)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in the stored form."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


# A hash to verify against when the mobile is unknown, so that a login for an unknown user
# takes as long as one with a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
