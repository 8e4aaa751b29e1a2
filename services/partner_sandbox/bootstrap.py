"""partner-sandbox's dependencies, and its web app."""
from dataclasses import dataclass

from flask import Flask
from psycopg_pool import ConnectionPool

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from partner_sandbox import config as sandbox_config
from partner_sandbox.lending_client import Lending


@dataclass
class Dependencies:
    config: dict
    pool: ConnectionPool
    lending: Lending


def build(config: dict | None = None) -> Dependencies:
    """Refuses to start without the shared secret (``RONGSHU_SECRET`` or ``KEYS_DIR/rongshu_secret``)."""
    settings = sandbox_config.load(config)
    if not settings["RONGSHU_SECRET"]:
        raise RuntimeError("partner-sandbox needs the shared secret: RONGSHU_SECRET or KEYS_DIR/rongshu_secret")
    return Dependencies(settings, create_pool(settings, "partner-sandbox"), Lending(settings))


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``partner_sandbox.wsgi:app``); ``config`` overrides the environment."""
    from partner_sandbox.api import callbacks, data, pages, sim

    deps = build(config)
    app = create_base_app("partner-sandbox", deps.config, "partner-sandbox")
    app.extensions["sandbox"] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    app.extensions["api"].spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    for blueprint in (sim.bp, data.bp, callbacks.bp):
        app.extensions["api"].register_blueprint(blueprint)
    app.register_blueprint(pages.bp)
    return app
