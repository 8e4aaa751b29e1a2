"""Per-run test infrastructure on the real servers: databases, a RabbitMQ vhost, a Redis key prefix.

URLs come from the environment (TEST_PG_SERVER_URL, TEST_AMQP_SERVER_URL, TEST_REDIS_URL); where a
server is not reachable and a Docker engine exists, testcontainers starts one instead.
"""
import shutil
import socket
import subprocess
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis

from shared.migrations import drop_database, migrate

SERVICES = ("user_center", "depository_agent", "bank_callback", "beanpay_ledger", "bank_sandbox", "lending",
            "partner_sandbox")
# Every simulated user of a test run signs up from one loopback address (as thousands of users behind
# one carrier address do): user-center's per-address registration limit would stop the suites' own
# sign-ups, so test runs lift it; the tests of that limit set their own.
SERVICE_SETTINGS = {"user_center": {"REGISTER_MAX_PER_ADDRESS": 1_000_000}}


def shared_rabbitmqctl(*args: str) -> str:
    """``rabbitmqctl <args>`` against the machine's broker (the node its configuration names)."""
    binary = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    return subprocess.run([binary, "-q", *args], check=True, capture_output=True, text=True, timeout=60).stdout


@dataclass
class Infra:
    """Where this test run's databases, vhost and Redis keys live. ``rabbitmqctl`` runs rabbitmqctl on
    the broker at ``amqp_server_url`` (a private node passes its own)."""

    pg_server_url: str
    amqp_server_url: str
    redis_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    keys_dir: str = ""
    internal_token: str = ""
    created_databases: set = field(default_factory=set)
    rabbitmqctl: Callable[..., str] = shared_rabbitmqctl

    @property
    def vhost(self) -> str:
        return f"t_{self.run_id}"

    @property
    def amqp_url(self) -> str:
        return f"{self.amqp_server_url.rstrip('/')}/{urllib.parse.quote(self.vhost, safe='')}"

    @property
    def redis_prefix(self) -> str:
        return f"t_{self.run_id}:"

    @property
    def partner_secret(self) -> str:
        """The secret lending and the partner sign their envelopes with (``KEYS_DIR/rongshu_secret``)."""
        with open(f"{self.keys_dir}/rongshu_secret", encoding="utf-8") as handle:
            return handle.read().strip()

    def database_url(self, service: str) -> str:
        return f"{self.pg_server_url.rstrip('/')}/t_{self.run_id}_{service}"

    def migrated_database(self, service: str) -> str:
        """The service's per-run database URL, created and migrated once."""
        url = self.database_url(service)
        if service not in self.created_databases:
            from importlib import import_module

            migrate(url, import_module(service).MIGRATIONS_DIR)
            self.created_databases.add(service)
        return url

    def service_env(self, service: str, **extra) -> dict:
        """Environment variables for a process of ``service`` in this run."""
        env = {
            "DATABASE_URL": self.migrated_database(service),
            "PG_SERVER_URL": self.pg_server_url,
            "AMQP_URL": self.amqp_url,
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": self.redis_prefix,
            "KEYS_DIR": self.keys_dir,
            "INTERNAL_TOKENS": self.internal_token,
            "INTERNAL_TOKEN": self.internal_token,
            "LOG_LEVEL": "WARNING",
        }
        env.update({key: str(value) for key, value in {**SERVICE_SETTINGS.get(service, {}), **extra}.items()})
        return env

    def config(self, service: str, **extra) -> dict:
        """An in-process ``create_app`` config for ``service`` (same values as :meth:`service_env`)."""
        env = self.service_env(service)
        config = {
            "DATABASE_URL": env["DATABASE_URL"],
            "AMQP_URL": env["AMQP_URL"],
            "REDIS_URL": env["REDIS_URL"],
            "REDIS_PREFIX": env["REDIS_PREFIX"],
            "KEYS_DIR": env["KEYS_DIR"],
            "INTERNAL_TOKENS": (self.internal_token,),
            "INTERNAL_TOKEN": self.internal_token,
            "LOG_LEVEL": "WARNING",
        }
        config.update({**SERVICE_SETTINGS.get(service, {}), **extra})
        return config

    def setup(self) -> None:
        self.rabbitmqctl("add_vhost", self.vhost)
        user = urllib.parse.urlparse(self.amqp_server_url).username or "guest"
        self.rabbitmqctl("set_permissions", "-p", self.vhost, user, ".*", ".*", ".*")

    def teardown(self) -> None:
        for service in self.created_databases:
            drop_database(self.database_url(service))
        self.rabbitmqctl("delete_vhost", self.vhost)
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(match=f"{self.redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)


@contextmanager
def separate_infra(base: Infra) -> Iterator[Infra]:
    """Fresh databases, vhost and Redis prefix on ``base``'s servers, with its keys and token; removed on exit."""
    own = Infra(base.pg_server_url, base.amqp_server_url, base.redis_url,
                keys_dir=base.keys_dir, internal_token=base.internal_token, rabbitmqctl=base.rabbitmqctl)
    own.setup()
    try:
        yield own
    finally:
        own.teardown()


def reachable(host: str, port: int) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def docker_available() -> bool:
    """True when a Docker engine answers (not merely a client on PATH)."""
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
