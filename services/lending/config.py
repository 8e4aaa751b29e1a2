"""lending settings (documented in docs/lending.md). Rates are decimal strings read as exact fractions."""
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from shared.config import load_config
from shared.contract import FIXED_CAPITAL, FIXED_REPAYMENT, RONGSHU_APP_ID, USER_NO, partner_secret

from lending import DATABASE

DEFAULTS = {
    "USER_CENTER_URL": "http://127.0.0.1:8001",
    "DEPOSITORY_AGENT_URL": "http://127.0.0.1:8002",
    "LEDGER_URL": "http://127.0.0.1:8004",
    "PARTNER_URL": "http://127.0.0.1:8007",
    "PARTNER_CALLBACK_URL": "http://127.0.0.1:8007/callbacks",
    "PUBLIC_URL": "http://127.0.0.1:8006",
    "RONGSHU_APP_ID": RONGSHU_APP_ID,
    "RONGSHU_SECRET": "",
    "PLATFORM_NO": "WANXINP2P",
    "FUNDER_USER_NOS": (),
    # when FUNDER_USER_NOS is empty: a file of funder userNos (`make run` writes deploy/keys/funder_user_nos)
    "FUNDER_USER_NOS_FILE": "",
    "LENDING_TIMEZONE": "Asia/Shanghai",
    # product
    "ANNUAL_RATE": "0.18",
    "REPAYMENT_WAY": FIXED_REPAYMENT,
    "SERVICE_FEE_RATE": "0.02",
    "REAPPLY_DAYS": 30,
    "CONFIRM_DAYS": 7,
    "OPEN_LINK_MINUTES": 30,
    "GRACE_DAYS": 3,
    "PENALTY_RATE_PER_DAY": "0.0005",
    # credit engine rule set
    "CREDIT_MIN_AGE": 20,
    "CREDIT_MAX_AGE": 55,
    "CREDIT_MIN_AMOUNT": 100_000,
    "CREDIT_MAX_AMOUNT": 20_000_000,
    "CREDIT_MIN_TERM": 3,
    "CREDIT_MAX_TERM": 24,
    "CREDIT_BLACKLIST": (),
    "REVIEW_BLACKLIST": (),
    # jobs and consumers
    "JOB_POLL_MS": 500,
    "JOB_BATCH": 50,
    "LEASE_SECONDS": 30,
    "PULL_RETRY_BASE_SECONDS": 2,
    "PULL_RETRY_MAX_SECONDS": 300,
    "STATE_CHECK_SECONDS": 5,
    "DISBURSE_RETRY_BASE_SECONDS": 10,
    "DISBURSE_RETRY_MAX_SECONDS": 600,
    "CALL_RESEND_SECONDS": 10,
    "POSTING_RETRY_BASE_SECONDS": 1,
    "POSTING_RETRY_MAX_SECONDS": 60,
    "CALLBACK_BATCH": 10,
    "CALLBACK_RETRY_BASE_SECONDS": 1,
    "CALLBACK_RETRY_MAX_SECONDS": 300,
    "OVERDUE_POLL_SECONDS": 60,
    "PREFETCH_COUNT": 50,
    "RETRY_BASE_MS": 500,
    "RETRY_MAX_MS": 30_000,
    "OUTBOX_BATCH_SIZE": 200,
    "OUTBOX_POLL_MS": 100,
    "OUTBOX_CONFIRM_TIMEOUT_SECONDS": 10,
    "OUTBOX_RETENTION_HOURS": 720,
    "SERVICE_TIMEOUT_SECONDS": 5,
    "PARTNER_TIMEOUT_SECONDS": 5,
}
_RATES = {"ANNUAL_RATE": "ANNUAL_RATE_FRACTION", "SERVICE_FEE_RATE": "SERVICE_FEE_RATE_FRACTION",
          "PENALTY_RATE_PER_DAY": "PENALTY_RATE_FRACTION"}
_RATE = re.compile(r"0|0?\.[0-9]{1,8}|[1-9][0-9]{0,2}(\.[0-9]{1,8})?")


def load(overrides: dict | None = None) -> dict:
    """The configuration from the environment, with ``overrides`` applied last.

    Adds the exact rates ``ANNUAL_RATE_FRACTION``, ``SERVICE_FEE_FRACTION`` and
    ``PENALTY_RATE_FRACTION`` and resolves the partner's secret (``RONGSHU_SECRET`` or
    ``KEYS_DIR/rongshu_secret``); a malformed rate or repayment way stops start-up.
    """
    config = load_config(DATABASE, DEFAULTS, overrides)
    for setting, exact in _RATES.items():
        config[exact] = rate(config[setting], setting)
    if config["REPAYMENT_WAY"] not in (FIXED_REPAYMENT, FIXED_CAPITAL):
        raise ValueError(f"REPAYMENT_WAY must be {FIXED_REPAYMENT} or {FIXED_CAPITAL}")
    if config["SERVICE_FEE_RATE_FRACTION"] >= 1:
        raise ValueError("SERVICE_FEE_RATE must be below 1")
    config["RONGSHU_SECRET"] = partner_secret(config)
    config["FUNDER_USER_NOS"] = user_nos(config["FUNDER_USER_NOS"], "FUNDER_USER_NOS")
    return config


def funders(config: dict) -> tuple[str, ...]:
    """The depository accounts that lend: ``FUNDER_USER_NOS``, else the userNos in ``FUNDER_USER_NOS_FILE``
    (commas or lines), read at every call so that a funder opened after start-up lends from the next pass;
    no file yet: none. A file holding anything but userNos raises ValueError (the pass fails, and says why)."""
    if config["FUNDER_USER_NOS"] or not config["FUNDER_USER_NOS_FILE"]:
        return config["FUNDER_USER_NOS"]
    try:
        with open(config["FUNDER_USER_NOS_FILE"], encoding="utf-8") as handle:
            text = handle.read(64 * 1024)
    except FileNotFoundError:
        return ()
    return user_nos(text.replace("\n", ",").split(","), "FUNDER_USER_NOS_FILE")


def user_nos(values, name: str) -> tuple[str, ...]:
    """``values`` without blanks, each checked to be a userNo (``USR_`` + 32 upper-case hex)."""
    found = tuple(value.strip() for value in values if value.strip())
    bad = [value for value in found if not USER_NO.fullmatch(value)]
    if bad:
        raise ValueError(f"{name} must hold userNos (USR_ + 32 upper-case hex), got {bad[0][:40]!r}")
    return found


def rate(text: str, name: str) -> Fraction:
    """A rate written as a plain decimal string (``"0.18"``) as an exact fraction; never a float."""
    if not isinstance(text, str) or not _RATE.fullmatch(text.strip()):
        raise ValueError(f"{name} must be a plain decimal such as \"0.18\", got {text!r}")
    try:
        return Fraction(Decimal(text.strip()))
    except InvalidOperation:
        raise ValueError(f"{name} must be a plain decimal, got {text!r}") from None
