"""user-center's side of reconciliation: its recharge and withdraw records, amounts in fen."""
from psycopg_pool import ConnectionPool

from user_center.repository import requests


def _view(row: dict) -> dict:
    return {"requestNo": row["request_no"], "serviceName": row["service_name"], "userNo": row["user_no"],
            "amount": row["amount"], "commission": row["commission"], "callbackStatus": row["callback_status"],
            "createDate": row["created_at"].isoformat(), "updateDate": row["updated_at"].isoformat()}


def by_request_nos(pool: ConnectionPool, request_nos: list[str]) -> dict:
    """``{total, records}`` of the records user-center has among ``request_nos``."""
    with pool.connection() as conn:
        rows = requests.money_records_by_request_no(conn, sorted(set(request_nos)))
    return {"total": len(rows), "records": [_view(row) for row in rows]}


def between(pool: ConnectionPool, start, end, page_no: int, size: int) -> dict:
    """``{total, records}``: one page of the records created or updated in ``[start, end)``, oldest first."""
    with pool.connection() as conn:
        total, rows = requests.money_records_between(conn, start, end, size, (page_no - 1) * size)
    return {"total": total, "records": [_view(row) for row in rows]}
