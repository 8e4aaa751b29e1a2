"""The sandbox bank's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from bank_sandbox import config as sandbox_config
from bank_sandbox import keys
from bank_sandbox.views import bank, huifu, pages, sandbox


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
    return app


def _load_keys(settings: dict) -> None:
    keys.platform_public(settings)
    keys.bank_private(settings)
    keys.huifu_private(settings)
