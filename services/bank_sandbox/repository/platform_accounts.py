"""platform_accounts: the platform's own account at the bank (userNo = its platformNo), in fen."""


def credit(conn, platform_no: str, amount: int) -> int:
    """Pay ``amount`` into the platform's account (opened on its first payment); its new balance."""
    return conn.execute(
        "insert into platform_accounts (platform_no, balance) values (%s, %s) on conflict (platform_no)"
        " do update set balance = platform_accounts.balance + excluded.balance, updated_at = now() returning balance",
        (platform_no, amount),
    ).fetchone()["balance"]


def balance(conn, platform_no: str) -> int:
    """The platform's balance (0 before its first payment)."""
    row = conn.execute("select balance from platform_accounts where platform_no = %s", (platform_no,)).fetchone()
    return row["balance"] if row else 0
