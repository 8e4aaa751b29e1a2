"""bank-callback's app factory."""
from flask import Flask

from shared.db import create_pool, ping
from shared.web import add_ready_check, create_base_app

from bank_callback import config as callback_config
from bank_callback import metrics
from bank_callback.cache import CustomerCache
from bank_callback.huifu import Verifier
from bank_callback.views import bp


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests pass their own)."""
    settings = callback_config.load(config)
    if settings["PRODUCTION"] and not settings["HUIFU_CALLBACK_URL_SET"]:
        # The bank calls the public address; the cluster-internal default would refuse every callback.
        raise ValueError("PRODUCTION=true needs HUIFU_CALLBACK_URL: the base of the callback URLs the bank was given")
    settings["FRONTEND_URL"] = callback_config.frontend_base(settings)
    verifier = Verifier.from_config(settings)  # configuration errors surface before anything opens
    app = create_base_app("bank-callback", settings, "bank-callback", envelope="plain")
    pool = create_pool(settings, "bank-callback")
    cache = CustomerCache.from_config(settings)
    app.extensions["db"] = pool
    app.extensions["customer_cache"] = cache
    app.extensions["huifu_verifier"] = verifier
    add_ready_check(app, "database", lambda: ping(pool))  # not Redis: callbacks work without the cache
    app.extensions["api"].register_blueprint(bp)
    metrics.register(app)
    return app
