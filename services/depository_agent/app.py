"""The depository-agent's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from depository_agent import config as agent_config
from depository_agent import metrics
from depository_agent.group_settle import GroupSettler
from depository_agent.views import gateway_bp, requests_bp
from depository_agent.wanxin import WanxinCodec


def create_app(config: dict | None = None) -> Flask:
    """Build the agent app; ``config`` overrides the environment (tests pass their own).

    In production it refuses to start unless both keys load and have at least 2048 bits.
    """
    settings = agent_config.load(config)
    codec = WanxinCodec(settings)
    codec.check_keys_in_production()
    app = create_base_app("depository-agent", settings, "depository-agent", envelope="rest")
    # Autocommit: notifications are settled by one self-contained statement per group (one round
    # trip, one commit); everything else opens its transaction with unit_of_work.
    pool = create_pool(settings, "depository-agent", autocommit=True)
    app.extensions["db"] = pool
    app.extensions["settler"] = GroupSettler(pool, settings["GATEWAY_GROUP_MAX"])
    app.extensions["wanxin"] = codec
    add_ready_check(app, "database", lambda: ping(pool))
    add_ready_check(app, "keys", codec.check_keys)
    metrics.install(app, pool)
    api = app.extensions["api"]
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(requests_bp)
    api.register_blueprint(gateway_bp)
    return app
