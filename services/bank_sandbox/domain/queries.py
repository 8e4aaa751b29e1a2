"""Read-only views of the bank: one request (signed, for compensation), a balance, a day's statement."""
from datetime import date
from zoneinfo import ZoneInfo

from shared.db import unit_of_work
from shared.errors import BadRequest, NotFound
from shared.money import format_fen

from bank_sandbox.domain import confirmation
from bank_sandbox.domain import notifications as notes
from bank_sandbox.repositories import requests, transactions, users


def check_platform(config: dict, platform_no: str) -> None:
    if platform_no != config["PLATFORM_NO"]:
        raise BadRequest(f"unknown platformNo {str(platform_no)[:40]!r}")


def signed_request_view(pool, config: dict, platform_no: str, request_no: str) -> dict:
    """The notification the request produced (or a pending one, status 0), signed by the bank.

    Read under the request's row lock, so a confirmation in progress is waited for; a request still
    pending after its expiry is closed as failed (20007) first: the bank never says "pending" about
    a request it can no longer accept.
    """
    check_platform(config, platform_no)
    with unit_of_work(pool) as conn:
        row = requests.lock(conn, request_no)
        if row is not None and row["status"] == 0 and requests.expired(conn, row):
            row = confirmation.close_expired(conn, config, row)
    if row is None:
        raise NotFound("unknown request")
    body = row["notification"] or notes.notification(row["service_name"], row["payload"], 0, notes.PENDING)
    return notes.signed(config, row["service_name"], body)


def balance(pool, user_no: str) -> dict:
    """The depository account balance of a bank user, in yuan."""
    if "\x00" in user_no:
        raise NotFound("unknown bank user")
    with unit_of_work(pool) as conn:
        user = users.get(conn, user_no)
    if user is None:
        raise NotFound(f"unknown bank user {user_no[:64]}")
    return {"userNo": user_no, "balance": format_fen(user["bank_balance"])}


def statement(pool, config: dict, platform_no: str, day: date) -> dict:
    """The platform's successful money movements booked on ``day`` (bank time zone), oldest first."""
    check_platform(config, platform_no)
    zone = config["SANDBOX_TIMEZONE"]
    with unit_of_work(pool) as conn:
        rows = transactions.for_day(conn, platform_no, day, zone)
    lines = [{
        "requestNo": row["request_no"], "serviceName": row["service_name"], "userNo": row["user_no"],
        "amount": format_fen(row["amount"]), "commission": format_fen(row["commission"]), "status": 1,
        "time": row["created_at"].astimezone(ZoneInfo(zone)).isoformat(timespec="seconds"),
    } for row in rows]
    return {"platformNo": platform_no, "date": day.isoformat(), "count": len(lines), "transactions": lines}
