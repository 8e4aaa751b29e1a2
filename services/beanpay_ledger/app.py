"""The ledger's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from beanpay_ledger import api_accounts, api_packages, batch
from beanpay_ledger import config as ledger_config
from beanpay_ledger.fast_postings import PostingFastPath
from beanpay_ledger.group_commit import GroupCommitter


def create_app(config: dict | None = None) -> Flask:
    """Build the ledger app; ``config`` overrides the environment (tests pass their own)."""
    settings = ledger_config.load(config)
    app = create_base_app("beanpay-ledger", settings, "beanpay-ledger", envelope="plain")
    pool = create_pool(settings, "beanpay-ledger", autocommit=True)
    app.extensions["db"] = pool
    app.extensions["postings"] = GroupCommitter(pool, settings["LEDGER_GROUP_MAX"])
    add_ready_check(app, "database", lambda: ping(pool))
    for blueprint in (api_accounts.bp, batch.bp, api_packages.bp):
        app.extensions["api"].register_blueprint(blueprint)
    app.wsgi_app = PostingFastPath(app)
    return app
