"""bank-sandbox's dependencies, built once per process for the web app and the notifier alike, and its web app."""
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg_pool import ConnectionPool

from shared.config import key_path
from shared.db import create_pool, ping
from shared.signing import RsaKey, load_key
from shared.web import add_ready_check, create_base_app

from bank_sandbox import config as sandbox_config

_EXTENSION = "bank_sandbox"


@dataclass(frozen=True)
class Keys:
    """The bank's keys: the platform's public key (verifies gateway requests), the bank's private key (signs
    notifications and /service/query views) and Huifu's (signs ChkValue).

    Each is read on first use and then kept (:func:`shared.signing.load_key` caches it), so a bank started
    before its keys exist answers /readyz 503 until they are there, instead of refusing to start.
    """

    platform_public_path: str
    bank_private_path: str
    huifu_private_path: str
    min_bits: int

    @classmethod
    def from_config(cls, config: dict) -> "Keys":
        return cls(key_path(config, "PLATFORM_PUBLIC_KEY_PATH", "platform_public.pem"),
                   key_path(config, "BANK_PRIVATE_KEY_PATH", "bank_private.pem"),
                   key_path(config, "HUIFU_PRIVATE_KEY_PATH", "huifu_private.pem"), config["MIN_KEY_BITS"])

    def platform_public(self) -> RsaKey:
        return load_key(self.platform_public_path, self.min_bits)

    def bank_private(self) -> RsaKey:
        return load_key(self.bank_private_path, self.min_bits)

    def huifu_private(self) -> RsaKey:
        return load_key(self.huifu_private_path, self.min_bits)

    def check(self) -> None:
        """Raise unless every key loads with at least MIN_KEY_BITS (readiness)."""
        self.platform_public()
        self.bank_private()
        self.huifu_private()


@dataclass
class Dependencies:
    """Everything a bank process uses: its settings, its database pool and its keys."""

    config: dict
    pool: ConnectionPool
    keys: Keys

    def close(self) -> None:
        self.pool.close()


def build(config: dict | None = None, name: str = "bank-sandbox") -> Dependencies:
    """The dependencies of one process, from the environment with ``config`` applied last (tests pass theirs);
    ``name`` is the database connections' application name."""
    settings = sandbox_config.load(config)
    return Dependencies(config=settings, pool=create_pool(settings, name), keys=Keys.from_config(settings))


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``bank_sandbox.wsgi:app``); ``config`` overrides the environment."""
    from bank_sandbox.api import bank, huifu, install, pages, sandbox

    deps = build(config)
    app = create_base_app("bank-sandbox", deps.config, "bank-sandbox", envelope="plain")
    app.extensions[_EXTENSION] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    add_ready_check(app, "keys", deps.keys.check)
    install(app, deps.config)
    api = app.extensions["api"]
    for blueprint in (pages.bp, sandbox.bp, sandbox.admin, bank.bp, huifu.bp):
        api.register_blueprint(blueprint)
    return app


def dependencies(app: Flask | None = None) -> Dependencies:
    """The dependencies of ``app`` (by default the app handling the current request)."""
    return (app or current_app).extensions[_EXTENSION]
