"""partner-sandbox's dependencies, and its web app."""
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg_pool import ConnectionPool

from shared.db import create_pool, ping
from shared.partner_envelope import envelope_schema
from shared.web import add_ready_check, create_base_app

from partner_sandbox import config as sandbox_config
from partner_sandbox.simulation import Lending


@dataclass
class Dependencies:
    """The sandbox's settings, its database pool and its client of lending's partner API."""

    config: dict
    pool: ConnectionPool
    lending: Lending


def build(config: dict | None = None) -> Dependencies:
    """Refuses to start without the shared secret (``RONGSHU_SECRET`` or ``KEYS_DIR/rongshu_secret``)."""
    settings = sandbox_config.load(config)
    if not settings["RONGSHU_SECRET"]:
        raise RuntimeError("partner-sandbox needs the shared secret: RONGSHU_SECRET or KEYS_DIR/rongshu_secret")
    return Dependencies(settings, create_pool(settings, "partner-sandbox"), Lending(settings))


def dependencies() -> Dependencies:
    """The web app's dependencies, for its request handlers."""
    return current_app.extensions["sandbox"]


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``partner_sandbox.wsgi:app``); ``config`` overrides the environment."""
    from partner_sandbox.api import callbacks, data, pages, sim

    deps = build(config)
    app = create_base_app("partner-sandbox", deps.config, "partner-sandbox")
    app.extensions["sandbox"] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    api = app.extensions["api"]
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    api.spec.components.schema("Envelope", envelope_schema(deps.config["RONGSHU_APP_ID"]))
    api.register_blueprint(sim.bp)
    api.register_blueprint(data.bp)
    api.register_blueprint(callbacks.bp)
    app.register_blueprint(pages.bp)
    return app
