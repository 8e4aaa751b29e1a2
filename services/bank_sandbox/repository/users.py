"""bank_users: the wanxin side's customers, their card balance and their depository account's available
(``bank_balance``) and frozen parts, in fen."""

_BALANCES = "card_balance, bank_balance, frozen_balance"


def lock(conn, user_no: str) -> dict | None:
    """The user row, locked for the rest of the transaction, or None."""
    return conn.execute("select * from bank_users where user_no = %s for update", (user_no,)).fetchone()


def lock_many(conn, user_nos) -> set[str]:
    """Lock the rows of ``user_nos`` in userNo order (every movement locks users in this order, so two
    never wait for each other); the userNos that exist."""
    rows = conn.execute("select user_no from bank_users where user_no = any(%s) order by user_no for update",
                        (sorted(set(user_nos)),)).fetchall()
    return {row["user_no"] for row in rows}


def get(conn, user_no: str) -> dict | None:
    return conn.execute("select * from bank_users where user_no = %s", (user_no,)).fetchone()


def insert(conn, payload: dict, password_hash: str, card_balance: int) -> None:
    """Open an account from a PERSONAL_REGISTER request's fields."""
    conn.execute(
        "insert into bank_users (user_no, fullname, id_number, mobile, bank_code, card_number, role,"
        " password_hash, card_balance) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (payload["userNo"], payload["fullname"], payload["idNumber"], payload["mobile"], payload["bankCode"],
         payload["cardNumber"], payload["role"], password_hash, card_balance),
    )


def move(conn, user_no: str, card_delta: int, bank_delta: int) -> dict:
    """Move money between the card and the available balance (the check constraints refuse a negative
    result); return the new balances."""
    return conn.execute(
        "update bank_users set card_balance = card_balance + %s, bank_balance = bank_balance + %s,"
        f" updated_at = now() where user_no = %s returning {_BALANCES}",
        (card_delta, bank_delta, user_no),
    ).fetchone()


def change(conn, user_no: str, available_delta: int, frozen_delta: int) -> dict | None:
    """Change the available and frozen balances of a depository account, unless either would go below
    zero (or the user does not exist): then None and nothing changes. Returns the new balances."""
    return conn.execute(
        "update bank_users set bank_balance = bank_balance + %s, frozen_balance = frozen_balance + %s,"
        " updated_at = now() where user_no = %s and bank_balance + %s >= 0 and frozen_balance + %s >= 0"
        f" returning {_BALANCES}",
        (available_delta, frozen_delta, user_no, available_delta, frozen_delta),
    ).fetchone()


def totals(conn, platform_no: str) -> dict:
    """Every card, available and frozen balance added up, and the platform's own account: read in one
    statement, so in one snapshot."""
    return conn.execute(
        "select coalesce(sum(card_balance), 0)::bigint as cards, coalesce(sum(bank_balance), 0)::bigint as available,"
        " coalesce(sum(frozen_balance), 0)::bigint as frozen,"
        " (select coalesce(sum(balance), 0) from platform_accounts where platform_no = %s)::bigint as platform"
        " from bank_users", (platform_no,)
    ).fetchone()


def set_password_failures(conn, user_no: str, failures: int, locked_until) -> None:
    """Wrong transaction passwords in a row, and the lock they set (None: not locked)."""
    conn.execute("update bank_users set failed_passwords = %s, locked_until = %s, updated_at = now()"
                 " where user_no = %s", (failures, locked_until, user_no))
