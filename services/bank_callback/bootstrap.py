"""bank-callback's dependencies, built once per process for the web app, the crediting worker and the
operator commands alike."""
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg_pool import ConnectionPool

from shared.db import create_pool, ping
from shared.ledger_client import LedgerClient
from shared.web import add_ready_check, create_base_app

from bank_callback import config as callback_config
from bank_callback.customer_cache import CustomerCache
from bank_callback.huifu import Verifier

SERVICE = "bank-callback"
_EXTENSION = "bank_callback"


@dataclass
class Dependencies:
    """What a bank-callback process works with."""

    config: dict
    pool: ConnectionPool
    verifier: Verifier  # the Huifu public key and the signed fields' formats
    cache: CustomerCache  # the bank-customers Redis hash
    ledger: LedgerClient  # beanpay-ledger, for the crediting of recharges
    frontend: str  # the base URL page callbacks send the browser to

    def close(self) -> None:
        self.pool.close()


def build(config: dict | None = None, name: str = SERVICE) -> Dependencies:
    """Everything a bank-callback process uses, from the environment with ``config`` applied last. A
    configuration error (hash, key, frontend) is raised before anything is opened."""
    settings = callback_config.load(config)
    verifier = Verifier.from_config(settings)
    frontend = callback_config.frontend_base(settings)
    return Dependencies(
        config=settings,
        pool=create_pool(settings, name),
        verifier=verifier,
        cache=CustomerCache.from_config(settings),
        ledger=LedgerClient(settings["LEDGER_URL"], settings, timeout=settings["LEDGER_TIMEOUT_MS"] / 1000),
        frontend=frontend,
    )


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``bank_callback.wsgi:app``); ``config`` overrides the environment (tests)."""
    # The blueprints reach the dependencies through this module's dependencies().
    from bank_callback.api import background_callbacks, metrics, page_callbacks, schemas

    settings = callback_config.load(config)
    if settings["PRODUCTION"] and not settings["HUIFU_CALLBACK_URL_SET"]:
        # The bank calls the public address; the cluster-internal default would refuse every callback.
        raise ValueError("PRODUCTION=true needs HUIFU_CALLBACK_URL: the base of the callback URLs the bank was given")
    deps = build(settings)
    app = create_base_app(SERVICE, deps.config, SERVICE, envelope="plain")
    app.extensions[_EXTENSION] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))  # not Redis: callbacks work without the cache
    api = app.extensions["api"]
    schemas.document_settings(api, deps.verifier)
    api.register_blueprint(background_callbacks.bp)
    api.register_blueprint(page_callbacks.bp)
    metrics.install(app, deps.pool, deps.cache)
    return app


def dependencies(app: Flask | None = None) -> Dependencies:
    """The dependencies of ``app``, by default the app serving the current request."""
    return (app or current_app).extensions[_EXTENSION]
