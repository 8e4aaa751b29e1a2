"""beanpay-ledger settings (see docs/beanpay_ledger.md's settings table)."""
from shared.config import load_config

from beanpay_ledger import DATABASE
from beanpay_ledger.validation import MAX_AMOUNT

DEFAULTS = {
    # The largest single amount (fen), credit or capacity number accepted.
    "LEDGER_MAX_AMOUNT": MAX_AMOUNT,
    # The most operations one /account/balance/batch call may carry.
    "LEDGER_MAX_BATCH": 1000,
    # A full batch of 1,000 operations is about 100 KB of JSON.
    "MAX_CONTENT_LENGTH": 512 * 1024,
    # Most single postings one group commit applies together (see group_commit.py).
    "LEDGER_GROUP_MAX": 100,
    # Connections per process: single postings need one (the group committer's), batches and queries
    # take one each while their one statement runs.
    "DB_POOL_MAX": 8,
}


def load(overrides: dict | None = None) -> dict:
    """The ledger's configuration from the environment, with ``overrides`` applied last."""
    return load_config(DATABASE, DEFAULTS, overrides)
