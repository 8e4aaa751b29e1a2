"""user-center settings (documented in docs/user_center.md)."""
from shared.config import load_config, read_key_file
from shared.money import parse_yuan

from user_center import DATABASE
from user_center.callback_urls import parse_prefixes

DEFAULTS = {
    "DEPOSITORY_AGENT_URL": "http://127.0.0.1:8002",
    "LEDGER_URL": "http://127.0.0.1:8004",
    "LENDING_URL": "http://127.0.0.1:8006",
    "USER_CENTER_PUBLIC_URL": "http://127.0.0.1:8001",
    "SERVICE_TIMEOUT_SECONDS": 5,
    "TOKEN_SECRET": "",
    "TOKEN_TTL_SECONDS": 3600,
    "MAX_AMOUNT": "1000000.00",
    "WITHDRAW_COMMISSION": "0.00",
    "NOTIFY_RETRY_HOURS": "24",
    "RETRY_BASE_MS": 1000,
    "RETRY_MAX_MS": 60_000,
    "PREFETCH_COUNT": 200,
    "NOTIFY_BATCH_SIZE": 100,
    "RECONNECT_MAX_SECONDS": 30,
    "HOLD_SWEEP_MS": 30_000,
    "HOLD_RETRY_BASE_SECONDS": 10,
    "HOLD_RETRY_MAX_SECONDS": 600,
    "HOLD_ORPHAN_SECONDS": 3600,
    "HOLD_SWEEP_BATCH": 50,
    "LOGIN_MAX_FAILURES_PER_MOBILE": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 100,
    "LOGIN_MAX_FAILURES_PER_DEVICE": 5,
    "LOGIN_FAILURE_WINDOW_SECONDS": 900,
    "LOGIN_REDIS_RETRY_SECONDS": 5,
    "DEVICE_COOKIE_TTL_DAYS": 90,
    "DEVICE_COOKIE_SECURE": False,
    "REGISTER_MAX_PER_MOBILE": 5,
    "REGISTER_MAX_PER_ADDRESS": 30,
    "REGISTER_WINDOW_SECONDS": 3600,
    "TRUSTED_PROXY_COUNT": 0,
    "CALLBACK_URL_PREFIXES": ("http://127.0.0.1:8001/",),
    "PLATFORM_NO": "WANXINP2P",
}


def load(overrides: dict | None = None) -> dict:
    """The configuration from the environment, with ``overrides`` applied last.

    Adds the derived settings ``MAX_AMOUNT_FEN`` and ``WITHDRAW_COMMISSION_FEN`` (integers),
    ``NOTIFY_RETRY_SECONDS`` (from ``NOTIFY_RETRY_HOURS``, a positive decimal number) and the parsed
    ``CALLBACK_URL_PREFIXES`` (a bad prefix stops the start), and resolves ``TOKEN_SECRET`` from
    ``KEYS_DIR/token_secret`` when the variable is not set.
    """
    config = load_config(DATABASE, DEFAULTS, overrides)
    config["MAX_AMOUNT_FEN"] = parse_yuan(config["MAX_AMOUNT"], "MAX_AMOUNT", max_fen=10**17)
    commission = config["WITHDRAW_COMMISSION"].strip()
    config["WITHDRAW_COMMISSION_FEN"] = 0 if commission in {"0", "0.0", "0.00"} else parse_yuan(
        commission, "WITHDRAW_COMMISSION", max_fen=config["MAX_AMOUNT_FEN"])
    config["CALLBACK_URL_RULES"] = parse_prefixes(config["CALLBACK_URL_PREFIXES"])
    config["NOTIFY_RETRY_SECONDS"] = _positive_hours(config["NOTIFY_RETRY_HOURS"]) * 3600
    if not config["TOKEN_SECRET"]:
        config["TOKEN_SECRET"] = read_key_file(config, "token_secret")
    return config


def _positive_hours(value) -> float:
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = 0.0
    if not 0 < hours < float("inf"):
        raise ValueError(f"NOTIFY_RETRY_HOURS must be a positive number of hours, got {value!r}")
    return hours
