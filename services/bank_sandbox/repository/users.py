"""bank_users: the wanxin side's customers, their card and depository balances (fen)."""


def lock(conn, user_no: str) -> dict | None:
    """The user row, locked for the rest of the transaction, or None."""
    return conn.execute("select * from bank_users where user_no = %s for update", (user_no,)).fetchone()


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
    """Apply balance changes (the check constraints refuse a negative result); return the new balances."""
    return conn.execute(
        "update bank_users set card_balance = card_balance + %s, bank_balance = bank_balance + %s,"
        " updated_at = now() where user_no = %s returning card_balance, bank_balance",
        (card_delta, bank_delta, user_no),
    ).fetchone()


def set_password_failures(conn, user_no: str, failures: int, locked_until) -> None:
    """Wrong transaction passwords in a row, and the lock they set (None: not locked)."""
    conn.execute("update bank_users set failed_passwords = %s, locked_until = %s, updated_at = now()"
                 " where user_no = %s", (failures, locked_until, user_no))
