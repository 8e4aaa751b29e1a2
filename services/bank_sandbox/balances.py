"""The depository accounts' balances (``/balance-details``) and the bank's totals (``/sandbox/totals``)."""
from shared.db import unit_of_work
from shared.errors import NotFound
from shared.money import format_fen

from bank_sandbox.repository import platform_accounts, users


def balance(pool, config: dict, user_no: str) -> dict:
    """A depository account's available (``balance``) and frozen parts, in yuan; userNo = the platformNo
    is the platform's own account."""
    if "\x00" in user_no:
        raise NotFound("unknown bank user")
    with unit_of_work(pool) as conn:
        if user_no == config["PLATFORM_NO"]:
            return {"userNo": user_no, "balance": format_fen(platform_accounts.balance(conn, user_no)),
                    "frozen": format_fen(0)}
        user = users.get(conn, user_no)
    if user is None:
        raise NotFound(f"unknown bank user {user_no[:64]}")
    return {"userNo": user_no, "balance": format_fen(user["bank_balance"]),
            "frozen": format_fen(user["frozen_balance"])}


def totals(pool, config: dict) -> dict:
    """Every wanxin user's card, available and frozen balances added up, the platform's account, and their
    total: money only moves inside the bank, so the total changes only when a user is opened (by the
    starting card balance)."""
    with unit_of_work(pool) as conn:
        sums = users.totals(conn, config["PLATFORM_NO"])
    total = sums["cards"] + sums["available"] + sums["frozen"] + sums["platform"]
    return {**{name: format_fen(value) for name, value in sums.items()}, "total": format_fen(total)}
