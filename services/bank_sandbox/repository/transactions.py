"""bank_transactions: statement lines, one per successful money movement."""


def insert(conn, request: dict, commission: int, balances: dict) -> None:
    """Write the statement line of a settled recharge or withdraw."""
    conn.execute(
        "insert into bank_transactions (request_no, platform_no, service_name, user_no, amount, commission,"
        " card_balance_after, bank_balance_after) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (request["request_no"], request["platform_no"], request["service_name"], request["user_no"],
         request["amount"], commission, balances["card_balance"], balances["bank_balance"]),
    )


def for_day(conn, platform_no: str, day, timezone: str) -> list[dict]:
    """The platform's lines booked on ``day`` in the bank's time zone, oldest first."""
    return conn.execute(
        "select request_no, service_name, user_no, amount, commission, created_at from bank_transactions"
        " where platform_no = %s and created_at >= (%s::date)::timestamp at time zone %s"
        " and created_at < (%s::date + 1)::timestamp at time zone %s order by created_at, id",
        (platform_no, day, timezone, day, timezone),
    ).fetchall()
