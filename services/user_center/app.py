"""user-center's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.ledger_client import LedgerClient
from shared.web import add_ready_check, create_base_app

from user_center import config as user_center_config
from user_center import frontend
from user_center.agent_client import AgentClient
from user_center.api import my, public
from user_center.api.schemas import RechargePage, WithdrawPage


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests pass their own).

    Refuses to start without a token secret (``TOKEN_SECRET`` or ``KEYS_DIR/token_secret``).
    """
    settings = user_center_config.load(config)
    if not settings["TOKEN_SECRET"]:
        raise RuntimeError("user-center needs TOKEN_SECRET (or KEYS_DIR/token_secret) to sign user tokens")
    app = create_base_app("user-center", settings, "user-center", envelope="rest")
    pool = create_pool(settings, "user-center")
    app.extensions["db"] = pool
    app.extensions["agent"] = AgentClient(settings["DEPOSITORY_AGENT_URL"], settings)
    app.extensions["ledger"] = LedgerClient(settings["LEDGER_URL"], settings, settings["SERVICE_TIMEOUT_SECONDS"])
    add_ready_check(app, "database", lambda: ping(pool))

    api = app.extensions["api"]
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for page in (RechargePage, WithdrawPage):  # referenced by the dual-purpose GET responses
        api.spec.components.schema(page.__name__, schema=page)
    api.register_blueprint(public.bp)
    api.register_blueprint(my.bp)
    app.register_blueprint(frontend.bp)
    return app
