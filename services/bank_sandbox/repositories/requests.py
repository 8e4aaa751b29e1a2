"""bank_requests: every gateway request the bank has seen, with its status 0 pending, 1 success, 2 failure."""
from psycopg.types.json import Jsonb


def insert_if_new(conn, service_name: str, platform_no: str, payload: dict, amount, commission, token: str) -> None:
    """Record a request unless its requestNo is already known (the caller compares contents)."""
    conn.execute(
        "insert into bank_requests (request_no, service_name, platform_no, user_no, payload, amount, commission,"
        " form_token) values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict (request_no) do nothing",
        (payload["requestNo"], service_name, platform_no, payload["userNo"], Jsonb(payload), amount, commission, token),
    )


def get(conn, request_no: str) -> dict | None:
    return conn.execute("select * from bank_requests where request_no = %s", (request_no,)).fetchone()


def lock(conn, request_no: str) -> dict | None:
    """The request row, locked for the rest of the transaction, or None."""
    return conn.execute("select * from bank_requests where request_no = %s for update", (request_no,)).fetchone()


def finish(conn, request_no: str, status: int, resp_code: str, resp_msg: str, notification: dict) -> None:
    """Make a pending request final and keep the notification it produced."""
    conn.execute(
        "update bank_requests set status = %s, resp_code = %s, resp_msg = %s, notification = %s,"
        " confirmed_at = now() where request_no = %s and status = 0",
        (status, resp_code, resp_msg, Jsonb(notification), request_no),
    )
