"""The ledger's dependencies, built once per process, and its web app."""
from dataclasses import dataclass

from flask import Flask
from psycopg_pool import ConnectionPool

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from beanpay_ledger import config as ledger_config
from beanpay_ledger.group_commit import GroupCommitter

SERVICE = "beanpay-ledger"


@dataclass
class Dependencies:
    """What the ledger's handlers use: its settings, its pool (autocommit: every ledger call is one statement,
    its own transaction) and the group committer of single postings."""

    config: dict
    pool: ConnectionPool
    postings: GroupCommitter

    @property
    def max_amount(self) -> int:
        """The largest amount, credit or number of uses accepted (``LEDGER_MAX_AMOUNT``)."""
        return self.config["LEDGER_MAX_AMOUNT"]

    def close(self) -> None:
        self.pool.close()


def build(config: dict | None = None) -> Dependencies:
    """Everything a ledger process uses, from the environment with ``config`` applied last."""
    settings = ledger_config.load(config)
    pool = create_pool(settings, SERVICE, autocommit=True)
    return Dependencies(config=settings, pool=pool, postings=GroupCommitter(pool, settings["LEDGER_GROUP_MAX"]))


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``beanpay_ledger.wsgi:app``); ``config`` overrides the environment (tests)."""
    from beanpay_ledger.api import accounts, batch, packages, postings
    from beanpay_ledger.api.shell import LedgerApi

    deps = build(config)
    app = create_base_app(SERVICE, deps.config, SERVICE, envelope="plain")
    app.extensions["beanpay_ledger"] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    app.wsgi_app = LedgerApi(app, deps, (accounts.routes, postings.routes, batch.routes, packages.routes))
    return app


def dependencies(app: Flask) -> Dependencies:
    """The app's :class:`Dependencies`."""
    return app.extensions["beanpay_ledger"]
