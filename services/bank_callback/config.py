"""bank-callback settings (see docs/bank_callback.md for each one)."""
from urllib.parse import urlsplit

from shared.config import load_config

from bank_callback import DATABASE

# Frontend bases of the page-callback redirects; "local" is the platform's own frontend (user-center "/").
FRONTEND_BASES = {
    "production": "http://m.fengchaohuzhu.com/",
    "test": "http://dev.fengchaohuzhu.com/",
}

DEFAULTS = {
    "HUIFU_MER_CUST_ID": "6000060000000001",
    "HUIFU_SIGN_HASH": "SHA256",
    "HUIFU_ALLOW_WEAK_HASH": "",
    "HUIFU_CALLBACK_URL": "",
    "BANK_CALLBACK_URL": "http://127.0.0.1:8003",
    "PLATFORM_NO": "WANXINP2P",
    "HUIFU_PUBLIC_KEY_PATH": "",
    "MIN_KEY_BITS": 2048,
    "MAX_AMOUNT_FEN": 100_000_000,
    "FRONTEND_ENV": "local",
    "FRONTEND_BASE": "",
    "USER_CENTER_URL": "http://127.0.0.1:8001",
    "LEDGER_URL": "http://127.0.0.1:8004",
    "LEDGER_TIMEOUT_MS": 5000,
    "REDIS_TIMEOUT_MS": 300,
    "CREDIT_BATCH_SIZE": 50,
    "CREDIT_POLL_MS": 1000,
    "CREDIT_MAX_BACKOFF_MS": 30000,
    "PENDING_REPORT_SECONDS": 300,
}


def load(overrides: dict | None = None) -> dict:
    """The service's configuration from the environment, with ``overrides`` applied last.

    ``HUIFU_CALLBACK_URL`` (the base of the callback URLs the bank was given) defaults to this
    service's own ``BANK_CALLBACK_URL`` and is kept without a trailing ``/``; ``HUIFU_CALLBACK_URL_SET``
    says whether it was given explicitly. A loaded configuration given as ``overrides`` loads as itself.
    """
    config = load_config(DATABASE, DEFAULTS, overrides)
    if "HUIFU_CALLBACK_URL_SET" not in config:
        config["HUIFU_CALLBACK_URL_SET"] = bool(config["HUIFU_CALLBACK_URL"])
    base = (config["HUIFU_CALLBACK_URL"] or config["BANK_CALLBACK_URL"]).rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"HUIFU_CALLBACK_URL must be an absolute http(s) URL without query, not {base!r}")
    config["HUIFU_CALLBACK_URL"] = base
    return config


def frontend_base(config: dict) -> str:
    """The frontend base URL page callbacks redirect to (always ending in ``/``).

    ``FRONTEND_BASE`` wins; otherwise ``FRONTEND_ENV`` picks production, test or local
    (``<USER_CENTER_URL>/``). An unknown environment name is a configuration error.
    """
    base = config["FRONTEND_BASE"]
    if not base:
        env = config["FRONTEND_ENV"].strip().lower()
        if env == "local":
            base = config["USER_CENTER_URL"]
        elif env in FRONTEND_BASES:
            base = FRONTEND_BASES[env]
        else:
            raise ValueError(f"FRONTEND_ENV must be production, test or local, not {config['FRONTEND_ENV']!r}")
    return base.rstrip("/") + "/"
