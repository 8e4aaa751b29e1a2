"""The bank's daily statement of the platform's money movements, for reconciliation (``/statements``).

One line per request that moved money (docs/bank_sandbox.md, "Statements"): recharges and withdrawals,
freezes and their cancels, confirmed loans and repayments. Each line has ``requestNo, serviceName,
userNo, amount, commission, status, time``; the transaction services' lines add what their own fields
cannot say: ``projectNo``, ``bizType``, ``preRequestNo`` and ``details``.
"""
from datetime import date
from zoneinfo import ZoneInfo

from shared import contract
from shared.db import unit_of_work
from shared.money import format_fen

from bank_sandbox.gateway_requests import check_platform
from bank_sandbox.repository import transactions

_EXTRA = {"project_no": "projectNo", "biz_type": "bizType", "pre_request_no": "preRequestNo"}
_DETAIL_ORDER = ("preRequestNo", "userNo", "amount", "interest")


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
        **{name: row[column] for column, name in _EXTRA.items() if row[column] is not None},
        **({"details": [_ordered(detail) for detail in row["details"]]} if row["details"] is not None else {}),
    } for row in rows]
    return {"platformNo": platform_no, "date": day.isoformat(), "count": len(lines), "transactions": lines}


def _ordered(detail: dict) -> dict:
    return {name: detail[name] for name in _DETAIL_ORDER if name in detail}
