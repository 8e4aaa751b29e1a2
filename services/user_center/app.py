"""user-center's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.ledger_client import LedgerClient
from shared.web import add_ready_check, create_base_app

from user_center import config as user_center_config
from user_center import frontend, metrics
from user_center.agent_client import AgentClient
from user_center.api import internal, my, public
from user_center.api.schemas import RechargePage, WithdrawPage
from user_center.holds import HoldReleaser
from user_center.login_throttle import LoginThrottle
from user_center.passwords import keep_hash_memory_returnable


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests pass their own).

    Refuses to start without a token secret (``TOKEN_SECRET`` or ``KEYS_DIR/token_secret``).
    """
    settings = user_center_config.load(config)
    if not settings["TOKEN_SECRET"]:
        raise RuntimeError("user-center needs TOKEN_SECRET (or KEYS_DIR/token_secret) to sign user tokens")
    keep_hash_memory_returnable()
    app = create_base_app("user-center", settings, "user-center", envelope="rest")
    pool = create_pool(settings, "user-center", autocommit=True)
    app.extensions["db"] = pool
    app.extensions["agent"] = AgentClient(settings["DEPOSITORY_AGENT_URL"], settings)
    app.extensions["ledger"] = LedgerClient(settings["LEDGER_URL"], settings, settings["SERVICE_TIMEOUT_SECONDS"])
    app.extensions["holds"] = HoldReleaser(pool, app.extensions["ledger"], settings)
    app.extensions["login_throttle"] = LoginThrottle(settings)
    add_ready_check(app, "database", lambda: ping(pool))
    metrics.install(app, pool, settings["AMQP_URL"])

    api = app.extensions["api"]
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    for page in (RechargePage, WithdrawPage):  # referenced by the dual-purpose GET responses
        api.spec.components.schema(page.__name__, schema=page)
    api.register_blueprint(public.bp)
    api.register_blueprint(my.bp)
    api.register_blueprint(internal.bp)
    app.register_blueprint(frontend.bp)
    return app
