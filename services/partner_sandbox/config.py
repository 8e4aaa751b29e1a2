"""partner-sandbox settings (documented in docs/partner_sandbox.md)."""
from shared.config import load_config
from shared.contract import RONGSHU_APP_ID, partner_secret

from partner_sandbox import DATABASE

DEFAULTS = {
    "LENDING_URL": "http://127.0.0.1:8006",
    "RONGSHU_APP_ID": RONGSHU_APP_ID,
    "RONGSHU_SECRET": "",
    "LENDING_TIMEOUT_SECONDS": 10,
    "SANDBOX_CALLBACK_FAIL_FIRST": 0,
    "SANDBOX_CALLBACK_DELAY_MS": 0,
}


def load(overrides: dict | None = None) -> dict:
    """The configuration from the environment, with ``overrides`` applied last; the shared secret from
    ``RONGSHU_SECRET`` or ``KEYS_DIR/rongshu_secret``."""
    config = load_config(DATABASE, DEFAULTS, overrides)
    config["RONGSHU_SECRET"] = partner_secret(config)
    return config
