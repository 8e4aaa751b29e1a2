"""The balances of the bank's depository accounts (``/balance-details``)."""
from shared.db import unit_of_work
from shared.errors import NotFound
from shared.money import format_fen

from bank_sandbox.repository import users


def balance(pool, user_no: str) -> dict:
    """The depository account balance of a bank user, in yuan."""
    if "\x00" in user_no:
        raise NotFound("unknown bank user")
    with unit_of_work(pool) as conn:
        user = users.get(conn, user_no)
    if user is None:
        raise NotFound(f"unknown bank user {user_no[:64]}")
    return {"userNo": user_no, "balance": format_fen(user["bank_balance"])}
