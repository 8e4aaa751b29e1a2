"""bank_requests: every request the bank has recorded, with its status 0 pending, 1 success, 2 failure: the
gateway's (pending until the user confirms) and the transaction services' (final in the transaction that
records them)."""
from psycopg.types.json import Jsonb


def insert_if_new(conn, service_name: str, platform_no: str, payload: dict, amount, commission, expires_at,
                  token: str) -> None:
    """Record a request unless its requestNo is already known (the caller compares contents)."""
    conn.execute(
        "insert into bank_requests (request_no, service_name, platform_no, user_no, payload, amount, commission,"
        " expires_at, form_token) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (request_no) do nothing",
        (payload["requestNo"], service_name, platform_no, payload["userNo"], Jsonb(payload), amount, commission,
         expires_at, token),
    )


def insert_service_request(conn, service_name: str, platform_no: str, user_no: str | None, payload: dict,
                           expires_at) -> bool:
    """Record a transaction service's request (pending until :func:`finish` in the same transaction); False
    when its requestNo is known already. A twin being recorded at the same moment is waited for."""
    return conn.execute(
        "insert into bank_requests (request_no, service_name, platform_no, user_no, payload, expires_at)"
        " values (%s, %s, %s, %s, %s, %s) on conflict (request_no) do nothing returning request_no",
        (payload["requestNo"], service_name, platform_no, user_no, Jsonb(payload), expires_at),
    ).fetchone() is not None


def get(conn, request_no: str) -> dict | None:
    return conn.execute("select * from bank_requests where request_no = %s", (request_no,)).fetchone()


def lock(conn, request_no: str) -> dict | None:
    """The request row, locked for the rest of the transaction, or None."""
    return conn.execute("select * from bank_requests where request_no = %s for update", (request_no,)).fetchone()


def serialize_on(conn, request_no: str) -> None:
    """Serialize the transactions working on ``request_no`` until commit (also while it is not recorded)."""
    conn.execute("select pg_advisory_xact_lock(hashtext('bank_requests'), hashtext(%s))", (request_no,))


def now(conn):
    """The database's clock now (not the transaction's start): the one clock every bank process shares."""
    return conn.execute("select clock_timestamp() as now").fetchone()["now"]


def expired(conn, row: dict) -> bool:
    """Whether the request's expired has passed, read after its row lock was taken."""
    return row["expires_at"] is not None and now(conn) > row["expires_at"]


def finish(conn, request_no: str, status: int, resp_code: str, resp_msg: str, notification: dict) -> None:
    """Make a pending request final and keep the notification it produced."""
    conn.execute(
        "update bank_requests set status = %s, resp_code = %s, resp_msg = %s, notification = %s,"
        " confirmed_at = now() where request_no = %s and status = 0",
        (status, resp_code, resp_msg, Jsonb(notification), request_no),
    )
