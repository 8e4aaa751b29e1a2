"""user-center's dependencies, built once per process for the web app, the worker and the operator commands.

:func:`build` makes the :class:`Dependencies` (pool, ledger, agent and lending clients, hold releaser, request
sweeper, login limits); :func:`create_app` puts them into the web app, where handlers reach them with
:func:`dependencies`; ``python -m user_center.workers.gateway_notify`` and the commands of
``python -m user_center`` call :func:`build` themselves.
"""
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg_pool import ConnectionPool

from shared.db import create_pool, ping
from shared.ledger_client import LedgerClient
from shared.web import add_ready_check, create_base_app

from user_center import config as user_center_config
from user_center.agent_client import AgentClient
from user_center.holds import HoldReleaser
from user_center.loans import LendingClient
from user_center.login_throttle import LoginThrottle
from user_center.passwords import keep_hash_memory_returnable
from user_center.sweep import RequestSweeper

_EXTENSION = "user_center"


@dataclass
class Dependencies:
    """What a user-center process uses, each built once."""

    config: dict
    pool: ConnectionPool
    ledger: LedgerClient
    agent: AgentClient
    lending: LendingClient
    holds: HoldReleaser
    sweeper: RequestSweeper
    login_throttle: LoginThrottle

    def close(self) -> None:
        self.pool.close()


def build(config: dict | None = None, name: str = "user-center") -> Dependencies:
    """Every dependency, from the environment with ``config`` applied last; ``name`` names the process's
    database connections."""
    settings = user_center_config.load(config)
    pool = create_pool(settings, name, autocommit=True)
    ledger = LedgerClient(settings["LEDGER_URL"], settings, settings["SERVICE_TIMEOUT_SECONDS"])
    agent = AgentClient(settings["DEPOSITORY_AGENT_URL"], settings)
    holds = HoldReleaser(pool, ledger, settings)
    return Dependencies(config=settings, pool=pool, ledger=ledger, agent=agent,
                        lending=LendingClient(settings["LENDING_URL"], settings), holds=holds,
                        sweeper=RequestSweeper(pool, agent, holds, settings), login_throttle=LoginThrottle(settings))


def dependencies(app: Flask | None = None) -> Dependencies:
    """The dependencies of ``app`` (the current app by default): the one way handlers reach them."""
    return (app or current_app).extensions[_EXTENSION]


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``user_center.wsgi:app``); ``config`` overrides the environment (tests).

    Refuses to start without a token secret (``TOKEN_SECRET`` or ``KEYS_DIR/token_secret``).
    """
    from user_center.api import frontend, internal, metrics, my, open_account_links, public, schemas

    deps = build(config)
    if not deps.config["TOKEN_SECRET"]:
        deps.close()
        raise RuntimeError("user-center needs TOKEN_SECRET (or KEYS_DIR/token_secret) to sign user tokens")
    keep_hash_memory_returnable()
    app = create_base_app("user-center", deps.config, "user-center", envelope="rest")
    app.extensions[_EXTENSION] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    metrics.install(app, deps.pool, deps.config["AMQP_URL"])
    schemas.document(app.extensions["api"], deps.config)
    app.extensions["api"].register_blueprint(public.bp)
    app.extensions["api"].register_blueprint(my.bp)
    app.extensions["api"].register_blueprint(internal.bp)
    app.register_blueprint(frontend.bp)
    app.register_blueprint(open_account_links.bp)
    return app
