"""The bank's daily statement of the platform's money movements, for reconciliation (``/statements``)."""
from datetime import date
from zoneinfo import ZoneInfo

from shared import contract
from shared.db import unit_of_work
from shared.money import format_fen

from bank_sandbox.gateway_requests import check_platform
from bank_sandbox.repository import transactions


def statement(pool, config: dict, platform_no: str, day: date) -> dict:
    """The platform's successful money movements booked on ``day`` (bank time zone), oldest first."""
    check_platform(config, platform_no)
    zone = config["SANDBOX_TIMEZONE"]
    with unit_of_work(pool) as conn:
        rows = transactions.for_day(conn, platform_no, day, zone)
    lines = [{
        "requestNo": row["request_no"], "serviceName": row["service_name"], "userNo": row["user_no"],
        "amount": format_fen(row["amount"]), "commission": format_fen(row["commission"]),
        "status": contract.STATUS_SUCCESS,
        "time": row["created_at"].astimezone(ZoneInfo(zone)).isoformat(timespec="seconds"),
    } for row in rows]
    return {"platformNo": platform_no, "date": day.isoformat(), "count": len(lines), "transactions": lines}
