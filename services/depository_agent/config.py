"""depository-agent settings; every one can be set in the environment (see docs/depository_agent.md)."""
from shared.config import load_config

from depository_agent import DATABASE

DEFAULTS = {
    "PLATFORM_NO": "WANXINP2P",
    "SIGN_HASH": "SHA256",
    "MIN_KEY_BITS": 2048,
    "PLATFORM_PRIVATE_KEY_PATH": "",
    "BANK_PUBLIC_KEY_PATH": "",
    "BANK_SANDBOX_URL": "http://127.0.0.1:8005",
    "DEPOSITORY_GATEWAY_URL": "",
    "MAX_AMOUNT_FEN": 100_000_000,
    # A signed request's expired = its timestamp + this; the bank refuses it afterwards.
    "GATEWAY_REQUEST_TTL_SECONDS": 1800,
    # Most notifications one group commit settles together (see group_settle.py).
    "GATEWAY_GROUP_MAX": 64,
    "OUTBOX_BATCH_SIZE": 200,
    "OUTBOX_POLL_MS": 100,
    "OUTBOX_CONFIRM_TIMEOUT_SECONDS": 10,
    "OUTBOX_RETENTION_HOURS": 720,
    "COMPENSATION_AGE_SECONDS": 300,
    # A request the bank does not know fails only this long after its expired (clock skew with the bank).
    "COMPENSATION_EXPIRY_GRACE_SECONDS": 60,
    "COMPENSATION_INTERVAL_SECONDS": 60,
    "COMPENSATION_POLL_SECONDS": 5,
    "COMPENSATION_BATCH_SIZE": 50,
    "COMPENSATION_TRIES": 3,
    "COMPENSATION_TRY_DELAY_MS": 200,
    # An open COMPENSATION_FAILED exception is checked again after EXCEPTION_POLL_SECONDS, doubling after each
    # further failure up to EXCEPTION_POLL_MAX_SECONDS (never below the first delay; equal: a fixed interval).
    "EXCEPTION_POLL_SECONDS": 10,
    "EXCEPTION_POLL_MAX_SECONDS": 10,
    "BANK_QUERY_TIMEOUT_SECONDS": 5,
    # A transaction service's call to the bank's POST /service: answered 202 (pending) after this long, below
    # the callers' own timeout (lending's SERVICE_TIMEOUT_SECONDS, 5) so that they hear the 202.
    "BANK_SERVICE_TIMEOUT_SECONDS": 3,
    "USER_CENTER_URL": "http://127.0.0.1:8001",
    "LEDGER_URL": "http://127.0.0.1:8004",
    "RECONCILE_TIMEZONE": "Asia/Shanghai",
    "RECONCILE_VERIFY_SECONDS": 30,
    "RECONCILE_PROGRESS_EVERY": 500,
    "RECONCILE_HTTP_TIMEOUT_SECONDS": 10,
}

def load(overrides: dict | None = None) -> dict:
    """The agent's configuration from the environment, with ``overrides`` applied last (in production
    ``MIN_KEY_BITS`` is at least 2048: :func:`shared.config.load_config`)."""
    config = load_config(DATABASE, DEFAULTS, overrides)
    if not config["DEPOSITORY_GATEWAY_URL"]:
        config["DEPOSITORY_GATEWAY_URL"] = f"{config['BANK_SANDBOX_URL'].rstrip('/')}/gateway"
    return config
