"""bank-sandbox settings (documented in docs/bank_sandbox.md)."""
from decimal import Decimal, InvalidOperation

from shared.config import load_config
from shared.money import parse_yuan

from bank_sandbox import DATABASE

DEFAULTS = {
    "PLATFORM_NO": "WANXINP2P",
    "SIGN_HASH": "SHA256",
    "MIN_KEY_BITS": 2048,
    "PLATFORM_PUBLIC_KEY_PATH": "",
    "BANK_PRIVATE_KEY_PATH": "",
    "HUIFU_PRIVATE_KEY_PATH": "",
    "HUIFU_MER_CUST_ID": "6000060000000001",
    "HUIFU_SIGN_HASH": "SHA256",
    "DEPOSITORY_AGENT_URL": "http://127.0.0.1:8002",
    "BANK_CALLBACK_URL": "http://127.0.0.1:8003",
    "SANDBOX_CARD_BALANCE": "100000.00",
    "SANDBOX_MAX_AMOUNT": "1000000.00",
    "SANDBOX_TIMEZONE": "Asia/Shanghai",
    "SANDBOX_SCRYPT_N": 16384,
    # Wrong transaction passwords in a row that lock a depository user's confirmations, and for how long.
    "SANDBOX_PASSWORD_MAX_FAILURES": 5,
    "SANDBOX_PASSWORD_LOCK_SECONDS": 900,
    "NOTIFIER_BACKOFF_BASE_SECONDS": "1",
    "NOTIFIER_BACKOFF_MAX_SECONDS": "60",
    "NOTIFIER_POLL_SECONDS": "0.5",
    "NOTIFIER_TIMEOUT_SECONDS": "5",
    "NOTIFIER_BATCH": 50,
    "SANDBOX_FAULT_DUPLICATES": 0,
    "SANDBOX_FAULT_DUPLICATE_PROBABILITY": "1",
    "SANDBOX_FAULT_DELAY_SECONDS": "0",
    "SANDBOX_FAULT_DROP_FIRST": 0,
    "SANDBOX_FAULT_DROP_PROBABILITY": "1",
    "SANDBOX_FAULT_REORDER": "none",
    "SANDBOX_FAULT_REORDER_BATCH": 2,
    "SANDBOX_FAULT_REORDER_HOLD_SECONDS": "5",
    "SANDBOX_FAULT_SERVICE_DELAY_SECONDS": "0",
    "SANDBOX_FAULT_SERVICE_LOSE_ANSWER": "none",
    "SANDBOX_FAULT_SERVICE_PROBABILITY": "1",
}


def load(overrides: dict | None = None) -> dict:
    """The sandbox's configuration from the environment, with ``overrides`` applied last.

    Money settings become fen (``CARD_BALANCE_FEN``, ``MAX_AMOUNT_FEN``); a bad value stops start-up.
    """
    config = load_config(DATABASE, DEFAULTS, overrides)
    config["CARD_BALANCE_FEN"] = parse_yuan(str(config["SANDBOX_CARD_BALANCE"]), "SANDBOX_CARD_BALANCE", 10**15)
    config["MAX_AMOUNT_FEN"] = parse_yuan(str(config["SANDBOX_MAX_AMOUNT"]), "SANDBOX_MAX_AMOUNT", 10**15)
    return config


def seconds(config: dict, name: str) -> float:
    """A duration setting in seconds (a decimal string such as ``"0.5"``), refusing negatives."""
    try:
        value = Decimal(str(config[name]))
    except InvalidOperation:
        raise ValueError(f"{name} must be a number of seconds, got {config[name]!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a non-negative number of seconds")
    return float(value)
