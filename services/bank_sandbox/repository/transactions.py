"""bank_transactions: statement lines, one per request that moved money."""
from psycopg.types.json import Jsonb

_COLUMNS = ("request_no", "platform_no", "service_name", "user_no", "amount", "commission", "card_balance_after",
            "bank_balance_after", "frozen_balance_after", "project_no", "biz_type", "pre_request_no", "details")


def insert(conn, line: dict) -> None:
    """Write one statement line: the request's own fields, the line's user's balances after it
    (``balances``: card_balance, bank_balance, frozen_balance), and optionally project_no, biz_type,
    pre_request_no and details (a list, stored as JSON)."""
    balances = line["balances"]
    values = {**{name: line.get(name) for name in _COLUMNS}, "card_balance_after": balances["card_balance"],
              "bank_balance_after": balances["bank_balance"], "frozen_balance_after": balances["frozen_balance"],
              "commission": line.get("commission") or 0}
    if values["details"] is not None:
        values["details"] = Jsonb(values["details"])
    conn.execute(f"insert into bank_transactions ({', '.join(_COLUMNS)})"
                 f" values ({', '.join('%(' + name + ')s' for name in _COLUMNS)})", values)


def for_day(conn, platform_no: str, day, timezone: str) -> list[dict]:
    """The platform's lines booked on ``day`` in the bank's time zone, oldest first."""
    return conn.execute(
        "select request_no, service_name, user_no, amount, commission, project_no, biz_type, pre_request_no, details,"
        " created_at from bank_transactions"
        " where platform_no = %s and created_at >= (%s::date)::timestamp at time zone %s"
        " and created_at < (%s::date + 1)::timestamp at time zone %s order by created_at, id",
        (platform_no, day, timezone, day, timezone),
    ).fetchall()
