"""depository-agent's dependencies, built once per process for the web app and the workers alike.

:func:`build` makes what the web app, the compensation worker and the operator commands use; the
outbox relay, which needs only its own database connection and broker channel, is made by
:func:`build_relay`.
"""
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from psycopg_pool import ConnectionPool

from shared.db import create_pool
from shared.messaging import declare_gateway_notify
from shared.outbox import OutboxRelay

from depository_agent import config as agent_config
from depository_agent.bank_client import BankQuery, BankService
from depository_agent.compensation import Compensator
from depository_agent.group_settle import GroupSettler
from depository_agent.wanxin import WanxinCodec

if TYPE_CHECKING:
    from flask import Flask

EXTENSION = "depository_agent"


@dataclass
class Dependencies:
    """Everything a process of the agent uses: its settings, one connection pool, the wanxin codec, the
    group settler of ``/gateway``, the compensator (bank queries) and the bank's ``POST /service``."""

    config: dict
    # Autocommit: notifications are settled by one self-contained statement per group (one round trip,
    # one commit); everything else opens its transaction with shared.db.unit_of_work.
    pool: ConnectionPool
    codec: WanxinCodec
    settler: GroupSettler
    compensator: Compensator
    bank_service: BankService

    def close(self) -> None:
        self.pool.close()


def build(config: dict | None = None, name: str = "depository-agent", check_keys: bool = True) -> Dependencies:
    """The agent's dependencies from the environment with ``config`` applied last; ``name`` names the
    database connections. With ``check_keys`` (everything that signs or verifies), production refuses to
    start unless both keys load with at least 2048 bits."""
    settings = agent_config.load(config)
    codec = WanxinCodec(settings)
    if check_keys:
        codec.check_keys_in_production()
    pool = create_pool(settings, name, autocommit=True)
    return Dependencies(config=settings, pool=pool, codec=codec,
                        settler=GroupSettler(pool, settings["GATEWAY_GROUP_MAX"]),
                        compensator=Compensator(pool, codec, BankQuery(settings), settings),
                        bank_service=BankService(settings))


def build_relay(config: dict | None = None) -> OutboxRelay:
    """The relay of the agent's ``outbox`` table to ``depository.gateway-notify`` (declared, with
    user-center's queue and dead-letter queue, on every connect)."""
    settings = agent_config.load(config)
    return OutboxRelay(
        settings["DATABASE_URL"], settings["AMQP_URL"], name=f"depository-agent.outbox-relay:{os.getpid()}",
        declare=declare_gateway_notify, batch_size=settings["OUTBOX_BATCH_SIZE"],
        poll_interval=settings["OUTBOX_POLL_MS"] / 1000, confirm_timeout=settings["OUTBOX_CONFIRM_TIMEOUT_SECONDS"],
        retention_s=settings["OUTBOX_RETENTION_HOURS"] * 3600)


def create_app(config: dict | None = None) -> "Flask":
    """The web app (gunicorn: ``depository_agent.wsgi:app``); ``config`` overrides the environment (tests).

    The web stack is imported here, not with the module, so that the workers do not load it.
    """
    from shared.db import ping
    from shared.web import add_ready_check, create_base_app

    from depository_agent.api import metrics
    from depository_agent.api import gateway, requests, schemas, transactions

    deps = build(config)
    app = create_base_app("depository-agent", deps.config, "depository-agent", envelope="rest")
    app.extensions[EXTENSION] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    add_ready_check(app, "keys", deps.codec.check_keys)
    metrics.install(app, deps.pool)
    api = app.extensions["api"]
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    api.ma_plugin.converter.add_attribute_function(schemas.configured_rules(deps.config))
    api.register_blueprint(requests.bp)
    api.register_blueprint(gateway.bp)
    api.register_blueprint(transactions.bp)
    return app


def current() -> Dependencies:
    """The dependencies of the app serving the current request (for the handlers in ``api/``)."""
    from flask import current_app

    return current_app.extensions[EXTENSION]
