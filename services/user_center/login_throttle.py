"""Failed-login limits per mobile number and per client address, counted in Redis.

Each failed login counts against its mobile and its client address in fixed windows of
LOGIN_FAILURE_WINDOW_SECONDS, starting at the first failure. Once a counter reaches its limit
(LOGIN_MAX_FAILURES_PER_MOBILE, LOGIN_MAX_FAILURES_PER_ADDRESS) logins are refused with 429 and
``Retry-After`` (the window's remaining seconds) before the password is even checked. A
successful login clears its mobile's counter (not the address's, so one valid account does not
unlock guessing at others). Keys: ``<REDIS_PREFIX>login-failures:mobile:<mobile>`` and
``...:address:<address>``.

When Redis is unreachable the counters live in this process instead (logged once per outage,
Redis asked again after LOGIN_REDIS_RETRY_SECONDS): logins keep working, limited per process.
"""
import logging
import threading
import time

import redis
from flask import request

from shared.errors import TooManyRequests

log = logging.getLogger(__name__)
_MEMORY_MAX_KEYS = 100_000


class LoginThrottled(TooManyRequests):
    """429 with the seconds after which a login may be tried again (Retry-After)."""


class RedisCounters:
    """Fixed-window counters in Redis (INCR, and EXPIRE only when the window starts)."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)

    def get(self, key: str) -> tuple[int, int]:
        """``(count, seconds left in the window)``; ``(0, 0)`` when no window runs."""
        count, ttl = self.client.pipeline().get(key).ttl(key).execute()
        return int(count or 0), max(int(ttl), 0)

    def increment(self, key: str, window: int) -> None:
        self.client.pipeline().incr(key).expire(key, window, nx=True).execute()

    def reset(self, key: str) -> None:
        self.client.delete(key)


class MemoryCounters:
    """The same counters in this process, for when Redis is down."""

    def __init__(self):
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[int, float]] = {}  # key -> (count, monotonic end of the window)

    def get(self, key: str) -> tuple[int, int]:
        with self.lock:
            count, ends = self.windows.get(key, (0, 0.0))
        left = ends - time.monotonic()
        return (count, int(left) + 1) if left > 0 else (0, 0)

    def increment(self, key: str, window: int) -> None:
        now = time.monotonic()
        with self.lock:
            if len(self.windows) >= _MEMORY_MAX_KEYS:
                self.windows = {k: v for k, v in self.windows.items() if v[1] > now}
            count, ends = self.windows.get(key, (0, 0.0))
            self.windows[key] = (count + 1, ends) if ends > now else (1, now + window)

    def reset(self, key: str) -> None:
        with self.lock:
            self.windows.pop(key, None)


class LoginThrottle:
    """Checks and counts failed logins; Redis first, this process's memory while Redis is down."""

    def __init__(self, config: dict):
        self.prefix = f"{config['REDIS_PREFIX']}login-failures:"
        self.window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
        self.limits = {"mobile": config["LOGIN_MAX_FAILURES_PER_MOBILE"],
                       "address": config["LOGIN_MAX_FAILURES_PER_ADDRESS"]}
        self.redis_retry = config["LOGIN_REDIS_RETRY_SECONDS"]
        self.redis = RedisCounters(config["REDIS_URL"])
        self.memory = MemoryCounters()
        self.redis_down_until = 0.0

    def check(self, mobile: str, address: str) -> None:
        """Raise :class:`LoginThrottled` when the mobile or the address has used up its failures."""
        for kind, value in (("mobile", mobile), ("address", address)):
            count, left = self._call("get", self._key(kind, value))
            if count >= self.limits[kind]:
                what = "this mobile number" if kind == "mobile" else "this address"
                raise LoginThrottled(f"too many failed logins for {what}; try again in {left} seconds", left)

    def failed(self, mobile: str, address: str) -> None:
        """Count one failed login against both."""
        self._call("increment", self._key("mobile", mobile), self.window)
        self._call("increment", self._key("address", address), self.window)

    def succeeded(self, mobile: str) -> None:
        """A successful login clears its mobile's failures."""
        self._call("reset", self._key("mobile", mobile))

    def _key(self, kind: str, value: str) -> str:
        return f"{self.prefix}{kind}:{value}"

    def _call(self, operation: str, *args):
        if time.monotonic() >= self.redis_down_until:
            try:
                return getattr(self.redis, operation)(*args)
            except redis.RedisError as exc:
                log.warning("login limits: Redis unreachable (%s); counting in this process for %ss",
                            exc.__class__.__name__, self.redis_retry)
                self.redis_down_until = time.monotonic() + self.redis_retry
        return getattr(self.memory, operation)(*args)


def client_address(trusted_proxies: int) -> str:
    """The caller's address: the socket peer, or with TRUSTED_PROXY_COUNT = n > 0 the X-Forwarded-For
    entry the outermost trusted proxy appended (n-th from the right); the peer when there are fewer."""
    remote = request.remote_addr or "unknown"
    if trusted_proxies <= 0:
        return remote
    forwarded = [part.strip() for header in request.headers.getlist("X-Forwarded-For")
                 for part in header.split(",") if part.strip()]
    return forwarded[-trusted_proxies][:64] if len(forwarded) >= trusted_proxies else remote
