"""The sandbox bank's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from bank_sandbox import config as sandbox_config
from bank_sandbox import keys
from bank_sandbox.domain.gateway_request import RequestExpired
from bank_sandbox.views import bank, huifu, pages, sandbox
from bank_sandbox.views.errors import error_json


def create_app(config: dict | None = None) -> Flask:
    """Build the bank's app; ``config`` overrides the environment (tests pass their own)."""
    settings = sandbox_config.load(config)
    app = create_base_app("bank-sandbox", settings, "bank-sandbox", envelope="plain")
    pool = create_pool(settings, "bank-sandbox")
    app.extensions["db"] = pool
    add_ready_check(app, "database", lambda: ping(pool))
    add_ready_check(app, "keys", lambda: _load_keys(settings))
    api = app.extensions["api"]
    for blueprint in (pages.bp, sandbox.bp, sandbox.admin, bank.bp, huifu.bp):
        api.register_blueprint(blueprint)
    app.register_error_handler(RequestExpired, error_json)
    app.after_request(_never_framed)
    return app


def _never_framed(response):
    """No page of the bank may be shown inside another site's frame (clickjacking of the password form)."""
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response


def _load_keys(settings: dict) -> None:
    keys.platform_public(settings)
    keys.bank_private(settings)
    keys.huifu_private(settings)
