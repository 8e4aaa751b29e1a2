"""depository_calls: every transaction request lending makes to the depository agent (docs/protocols.md)."""
from psycopg.types.json import Jsonb

PENDING, SUCCESS, FAILED = 0, 1, 2


def insert(conn, call: dict) -> bool:
    """Store a call before it is sent; False when an equivalent one exists (a freeze is cancelled once)."""
    return conn.execute(
        "insert into depository_calls (request_no, service, purpose, domain, borrow_id, repayment_id,"
        " pre_request_no, user_no, amount, body) values (%(request_no)s, %(service)s, %(purpose)s, %(domain)s,"
        " %(borrow_id)s, %(repayment_id)s, %(pre_request_no)s, %(user_no)s, %(amount)s, %(body)s)"
        " on conflict do nothing", {**call, "body": Jsonb(call["body"])}).rowcount == 1


def get(conn, request_no: str) -> dict | None:
    return conn.execute("select * from depository_calls where request_no = %s", (request_no,)).fetchone()


def lease_for_send(conn, request_no: str, resend_seconds: int) -> dict | None:
    """The call when it is still pending and due, with its next send pushed ``resend_seconds`` ahead: one
    process sends it now, and the others (replicas' resend sweeps) leave it alone until then."""
    return conn.execute(
        "update depository_calls set next_send_at = now() + make_interval(secs => %s), sends = sends + 1"
        " where request_no = %s and status = 0 and next_send_at <= now() returning *",
        (resend_seconds, request_no)).fetchone()


def due(conn, domain: str, batch: int) -> list[str]:
    """Pending calls of ``domain`` whose (re)send is due."""
    rows = conn.execute("select request_no from depository_calls where domain = %s and status = 0"
                        " and next_send_at <= now() order by next_send_at limit %s", (domain, batch)).fetchall()
    return [row["request_no"] for row in rows]


def note_silence(conn, request_no: str, error: str, delay_seconds: int | None = None) -> None:
    """Keep what the last send learnt (nothing final); ``delay_seconds`` moves the next send."""
    conn.execute("update depository_calls set last_error = %s,"
                 " next_send_at = coalesce(now() + make_interval(secs => %s), next_send_at)"
                 " where request_no = %s and status = 0", (error[:500], delay_seconds, request_no))


def finish(conn, request_no: str, status: int, resp_code: str, resp_msg: str) -> dict | None:
    """Settle a pending call (locking it); None when it was settled before: each result applies once."""
    return conn.execute("update depository_calls set status = %s, resp_code = %s, resp_msg = %s, settled_at = now()"
                        " where request_no = %s and status = 0 returning *",
                        (status, resp_code, resp_msg[:500], request_no)).fetchone()


def of_borrow(conn, borrow_id: int, purpose: str) -> list[dict]:
    return conn.execute("select * from depository_calls where borrow_id = %s and purpose = %s order by created_at",
                        (borrow_id, purpose)).fetchall()


def used_by_successful_loan(conn, tender_request_no: str) -> bool:
    return conn.execute("select exists (select 1 from depository_calls where purpose = 'loan' and status = 1"
                        " and pre_request_no = %s) as used", (tender_request_no,)).fetchone()["used"]
