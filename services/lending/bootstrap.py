"""lending's dependencies, built once per process for the web app and the workers alike."""
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg_pool import ConnectionPool

from shared.db import create_pool, ping
from shared.ledger_client import LedgerClient
from shared.metrics import add_gauge
from shared.web import add_ready_check, create_base_app

from lending import config as lending_config
from lending.api import metrics
from lending.call_settlement import DepositoryAgent
from lending.credit_application import CreditData
from lending.credit_engine import CreditRules
from lending.loan_confirmation import UserCenter
from lending.partner_callbacks import PartnerCallbacks


@dataclass
class Dependencies:
    """What a lending process uses: its settings, database pool, the clients of its peers, the credit rules."""

    config: dict
    pool: ConnectionPool
    ledger: LedgerClient
    agent: DepositoryAgent
    user_center: UserCenter
    credit_data: CreditData
    partner_callbacks: PartnerCallbacks
    rules: CreditRules

    def close(self) -> None:
        self.pool.close()


def build(config: dict | None = None, name: str = "lending") -> Dependencies:
    """Everything a lending process uses, from the environment with ``config`` applied last. Refuses to
    start without the partner's secret (``RONGSHU_SECRET`` or ``KEYS_DIR/rongshu_secret``)."""
    settings = lending_config.load(config)
    if not settings["RONGSHU_SECRET"]:
        raise RuntimeError("lending needs the partner's secret: RONGSHU_SECRET or KEYS_DIR/rongshu_secret")
    return Dependencies(
        config=settings,
        pool=create_pool(settings, name),
        ledger=LedgerClient(settings["LEDGER_URL"], settings, settings["SERVICE_TIMEOUT_SECONDS"]),
        agent=DepositoryAgent(settings["DEPOSITORY_AGENT_URL"], settings),
        user_center=UserCenter(settings["USER_CENTER_URL"], settings),
        credit_data=CreditData(settings),
        partner_callbacks=PartnerCallbacks(settings),
        rules=CreditRules.from_config(settings),
    )


def dependencies() -> Dependencies:
    """The web app's dependencies, for its request handlers."""
    return current_app.extensions["lending"]


def create_app(config: dict | None = None) -> Flask:
    """The web app (gunicorn: ``lending.wsgi:app``); ``config`` overrides the environment (tests)."""
    from lending.api import agreements, internal, partner

    deps = build(config)
    app = create_base_app("lending", deps.config, "lending")
    app.extensions["lending"] = deps
    add_ready_check(app, "database", lambda: ping(deps.pool))
    for name, help_text, function in metrics.gauges(deps.pool):
        add_gauge(app, name, help_text, function)
    api = app.extensions["api"]
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    partner.document(api.spec, deps.config["RONGSHU_APP_ID"])
    api.register_blueprint(partner.bp)
    api.register_blueprint(internal.bp)
    app.register_blueprint(agreements.bp)
    return app
