"""beanpay-ledger settings (see README's configuration table)."""
from shared.config import load_config

from beanpay_ledger import DATABASE

DEFAULTS = {
    "LEDGER_MAX_AMOUNT": 10**12,
}


def load(overrides: dict | None = None) -> dict:
    """The ledger's configuration from the environment, with ``overrides`` applied last."""
    return load_config(DATABASE, DEFAULTS, overrides)
