"""The ``bank-customers`` Redis hash (openid -> cust_id): a copy of ``bank_customers`` for readers.

The table is the truth. Writes to the cache are best effort with short timeouts, so a Redis
outage never blocks a callback; :func:`rebuild` repairs the copy afterwards and :func:`check`
compares the two. Redis is only called with no transaction open.
"""
import logging
import uuid

import redis
from psycopg_pool import ConnectionPool
from redis.backoff import NoBackoff
from redis.retry import Retry

from bank_callback.repository import customers

log = logging.getLogger(__name__)
CACHE_KEY = "bank-customers"
_CHUNK = 1000
_TEMP_TTL_SECONDS = 600


class CustomerCache:
    """The hash under ``<REDIS_PREFIX>bank-customers``."""

    def __init__(self, redis_url: str, prefix: str, timeout_ms: int):
        timeout = timeout_ms / 1000
        self.client = redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           retry=Retry(NoBackoff(), 0), decode_responses=True)
        self.key = f"{prefix}{CACHE_KEY}"

    @classmethod
    def from_config(cls, config: dict) -> "CustomerCache":
        """The cache of ``config``: REDIS_URL, REDIS_PREFIX, REDIS_TIMEOUT_MS."""
        return cls(config["REDIS_URL"], config["REDIS_PREFIX"], config["REDIS_TIMEOUT_MS"])

    def remember(self, openid: str, cust_id: str) -> bool:
        """Copy one binding into the hash; False (logged) when Redis cannot be reached."""
        try:
            self.client.hset(self.key, openid, cust_id)
            return True
        except redis.RedisError as exc:
            log.warning("bank-customers cache not updated (run `python -m bank_callback cache rebuild`"
                        " once Redis is back): %s", exc, extra={"fields": {"openid": openid}})
            return False

    def replace(self, bindings: dict[str, str]) -> None:
        """Replace the whole hash with ``bindings`` atomically: fill a temporary key, then RENAME it."""
        temp = f"{self.key}:rebuild:{uuid.uuid4().hex}"
        items = list(bindings.items())
        for start in range(0, len(items), _CHUNK):
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(temp, mapping=dict(items[start:start + _CHUNK]))
            pipe.expire(temp, _TEMP_TTL_SECONDS)  # a rebuild that dies halfway leaves no litter
            pipe.execute()
        pipe = self.client.pipeline(transaction=True)
        if items:
            pipe.rename(temp, self.key)
            pipe.persist(self.key)
        else:
            pipe.delete(self.key)
        pipe.execute()

    def snapshot(self) -> dict[str, str]:
        """The hash's current content."""
        return self.client.hgetall(self.key)

    def ping(self) -> None:
        """Raise unless Redis answers."""
        self.client.ping()


def rebuild(pool: ConnectionPool, cache: CustomerCache) -> int:
    """Replace the hash with the table's live bindings, atomically; how many there are.

    Raises :class:`redis.RedisError` when Redis cannot be reached.
    """
    with pool.connection() as conn:
        table = customers.all_customers(conn)
    cache.replace(table)
    return len(table)


def check(pool: ConnectionPool, cache: CustomerCache) -> tuple[int, dict[str, dict]]:
    """The number of live bindings in the table, and how the hash departs from them (:func:`differences`).

    Raises :class:`redis.RedisError` when Redis cannot be reached.
    """
    with pool.connection() as conn:
        table = customers.all_customers(conn)
    return len(table), differences(table, cache.snapshot())


def differences(table: dict[str, str], cached: dict[str, str]) -> dict[str, dict]:
    """How the cache departs from the table: ``missing`` and ``stale`` entries, ``extra`` keys."""
    return {
        "missing": {openid: cust for openid, cust in table.items() if openid not in cached},
        "stale": {openid: {"table": cust, "cache": cached[openid]}
                  for openid, cust in table.items() if openid in cached and cached[openid] != cust},
        "extra": {openid: cust for openid, cust in cached.items() if openid not in table},
    }
