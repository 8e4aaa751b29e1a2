"""Limits on the doors a stranger can knock at without an account: logging in and registering.

Logins follow OWASP's device-cookie scheme (:mod:`user_center.device_cookies`):

- a login from a device that holds a valid cookie *for the account it logs in to* (a returning
  device) counts only against that device: at most LOGIN_MAX_FAILURES_PER_DEVICE failures per
  window. Neither the account's lockout of unknown devices nor the address limit holds it back, so
  strangers behind the same NAT, carrier or ingress can never lock its owner out, and a stolen
  cookie buys only that small budget;
- any other login counts against its mobile (LOGIN_MAX_FAILURES_PER_MOBILE: the account's
  lockout of unknown devices) and its client address (LOGIN_MAX_FAILURES_PER_ADDRESS). A mobile
  that is not registered is counted exactly like one that is, so a lockout tells nobody whether
  the mobile exists.

Every attempt is counted *before* the password is checked, in one atomic Redis script that first
checks every counter of the attempt; so parallel guesses cannot slip past a limit while the
earlier ones are still being hashed. A successful login takes its own count back (the address's
by one; the mobile's or the device's are cleared). Windows are fixed, LOGIN_FAILURE_WINDOW_SECONDS
from the first counted attempt; a refusal is a 429 with ``Retry-After`` (the window's remaining
seconds) and is not counted itself.

Registrations (``POST /consumers``, which tells registered mobiles apart and costs a 16 MiB
scrypt) are counted per mobile and per address, REGISTER_MAX_PER_MOBILE / REGISTER_MAX_PER_ADDRESS
per REGISTER_WINDOW_SECONDS.

Keys: ``<REDIS_PREFIX>login-failures:{mobile,address,device}:<value>`` and
``<REDIS_PREFIX>registrations:{mobile,address}:<value>``. When Redis is unreachable the counters
live in this process instead (logged once per outage, Redis asked again after
LOGIN_REDIS_RETRY_SECONDS): logins keep working and stay limited, per process.
"""
import logging
import threading
import time
from dataclasses import dataclass

import redis

from shared.errors import TooManyRequests

from user_center.device_cookies import Device

log = logging.getLogger(__name__)
_MEMORY_MAX_KEYS = 100_000

# KEYS: counters; ARGV: limit and window (seconds) of each. When a counter is at its limit, answer
# {its 1-based index, seconds left}; otherwise count one on every counter and answer {0, 0}.
_TAKE = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then
    local left = redis.call('TTL', key)
    if left < 0 then
      left = tonumber(ARGV[2 * i])
      redis.call('EXPIRE', key, left)
    end
    return {i, left}
  end
end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 or redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, ARGV[2 * i])
  end
end
return {0, 0}
"""
_GIVE_BACK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class Throttled(TooManyRequests):
    """429 with the seconds after which the attempt may be made again (Retry-After)."""


class RedisCounters:
    """Fixed-window counters in Redis, taken atomically by a script."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self.take_script = self.client.register_script(_TAKE)
        self.give_back_script = self.client.register_script(_GIVE_BACK)

    def take(self, counters: list[tuple[str, int, int]]) -> tuple[int, int]:
        """Count one on each ``(key, limit, window)`` unless one is at its limit: ``(index + 1, seconds left)``
        of the first such counter, or ``(0, 0)`` when counted."""
        keys = [key for key, _, _ in counters]
        args = [value for _, limit, window in counters for value in (limit, window)]
        blocked, left = self.take_script(keys=keys, args=args)
        return int(blocked), int(left)

    def give_back(self, key: str) -> None:
        self.give_back_script(keys=[key])

    def reset(self, key: str) -> None:
        self.client.delete(key)


class MemoryCounters:
    """The same counters in this process, for when Redis is down."""

    def __init__(self):
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[int, float]] = {}  # key -> (count, monotonic end of the window)

    def take(self, counters: list[tuple[str, int, int]]) -> tuple[int, int]:
        now = time.monotonic()
        with self.lock:
            if len(self.windows) >= _MEMORY_MAX_KEYS:
                self.windows = {k: v for k, v in self.windows.items() if v[1] > now}
            current = [self.windows.get(key, (0, 0.0)) for key, _, _ in counters]
            for index, ((count, ends), (_, limit, _)) in enumerate(zip(current, counters), start=1):
                if ends > now and count >= limit:
                    return index, int(ends - now) + 1
            for (count, ends), (key, _, window) in zip(current, counters):
                self.windows[key] = (count + 1, ends) if ends > now else (1, now + window)
        return 0, 0

    def give_back(self, key: str) -> None:
        with self.lock:
            count, ends = self.windows.get(key, (0, 0.0))
            if count > 0:
                self.windows[key] = (count - 1, ends)

    def reset(self, key: str) -> None:
        with self.lock:
            self.windows.pop(key, None)


@dataclass(frozen=True)
class LoginAttempt:
    """What one login attempt was counted against, so that a success can take it back:
    ``cleared`` counters start again, ``given_back`` ones lose this attempt's count."""

    cleared: list[str]
    given_back: list[str]


class LoginThrottle:
    """Counts logins and registrations; Redis first, this process's memory while Redis is down."""

    def __init__(self, config: dict):
        self.prefix = config["REDIS_PREFIX"]
        self.login_window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
        self.login_limits = {"mobile": config["LOGIN_MAX_FAILURES_PER_MOBILE"],
                             "address": config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
                             "device": config["LOGIN_MAX_FAILURES_PER_DEVICE"]}
        self.register_window = config["REGISTER_WINDOW_SECONDS"]
        self.register_limits = {"mobile": config["REGISTER_MAX_PER_MOBILE"],
                                "address": config["REGISTER_MAX_PER_ADDRESS"]}
        self.redis_retry = config["LOGIN_REDIS_RETRY_SECONDS"]
        self.redis = RedisCounters(config["REDIS_URL"])
        self.memory = MemoryCounters()
        self.redis_down_until = 0.0

    def admit_login(self, mobile: str, address: str, device: Device | None) -> LoginAttempt:
        """Count a login attempt before its password is checked; :class:`Throttled` when it may not be made.

        ``device``: the caller's device cookie when it is valid for this very account, else ``None``.
        """
        if device is not None:
            key = self._key("login-failures", "device", device.device_id)
            self._take([("device", key, self.login_limits["device"], self.login_window)], _LOGIN_REFUSALS)
            return LoginAttempt(cleared=[key], given_back=[])
        mobile_key = self._key("login-failures", "mobile", mobile)
        address_key = self._key("login-failures", "address", address)
        self._take([("mobile", mobile_key, self.login_limits["mobile"], self.login_window),
                    ("address", address_key, self.login_limits["address"], self.login_window)], _LOGIN_REFUSALS)
        return LoginAttempt(cleared=[mobile_key], given_back=[address_key])

    def login_succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: the attempt was no failure."""
        for key in attempt.cleared:
            self._call("reset", key)
        for key in attempt.given_back:
            self._call("give_back", key)

    def admit_registration(self, mobile: str, address: str) -> None:
        """Count a registration attempt; :class:`Throttled` when the mobile or the address has used up its share."""
        self._take([(kind, self._key("registrations", kind, value), self.register_limits[kind], self.register_window)
                    for kind, value in (("mobile", mobile), ("address", address))], _REGISTER_REFUSALS)

    def _take(self, counters: list[tuple[str, str, int, int]], refusals: dict[str, str]) -> None:
        blocked, left = self._call("take", [(key, limit, window) for _, key, limit, window in counters])
        if blocked:
            left = max(left, 1)
            raise Throttled(refusals[counters[blocked - 1][0]].format(seconds=left), left)

    def _key(self, what: str, kind: str, value: str) -> str:
        return f"{self.prefix}{what}:{kind}:{value}"

    def _call(self, operation: str, *args):
        if time.monotonic() >= self.redis_down_until:
            try:
                return getattr(self.redis, operation)(*args)
            except redis.RedisError as exc:
                log.warning("login limits: Redis unreachable (%s); counting in this process for %ss",
                            exc.__class__.__name__, self.redis_retry)
                self.redis_down_until = time.monotonic() + self.redis_retry
        return getattr(self.memory, operation)(*args)


# The same words whether or not the mobile is registered.
_LOGIN_REFUSALS = {
    "mobile": "too many failed logins for this mobile number from devices it has not logged in from before; "
              "log in from one that has, or try again in {seconds} seconds",
    "address": "too many failed logins from this address; try again in {seconds} seconds",
    "device": "too many failed logins from this device; try again in {seconds} seconds",
}
_REGISTER_REFUSALS = {
    "mobile": "too many registration attempts for this mobile number; try again in {seconds} seconds",
    "address": "too many registration attempts from this address; try again in {seconds} seconds",
}
