"""repayments: one row per repayNo, from the freeze to its final result."""
from psycopg.types.json import Jsonb


def insert(conn, repayment: dict) -> dict | None:
    """A new PROCESSING repayment, or None when the repayNo exists already."""
    values = {**repayment, "periods": Jsonb(repayment["periods"]), "parts": Jsonb(repayment["parts"])}
    return conn.execute(
        "insert into repayments (repay_no, borrow_id, order_no, periods, amount, principal, interest, penalty, parts,"
        " freeze_request_no) values (%(repay_no)s, %(borrow_id)s, %(order_no)s, %(periods)s, %(amount)s,"
        " %(principal)s, %(interest)s, %(penalty)s, %(parts)s, %(freeze_request_no)s)"
        " on conflict (repay_no) do nothing returning *", values).fetchone()


def by_repay_no(conn, repay_no: str) -> dict | None:
    return conn.execute("select * from repayments where repay_no = %s", (repay_no,)).fetchone()


def by_id(conn, repayment_id: int, lock: bool = False) -> dict | None:
    return conn.execute("select * from repayments where id = %s" + (" for update" if lock else ""),
                        (repayment_id,)).fetchone()


def processing_of(conn, borrow_id: int) -> dict | None:
    return conn.execute("select * from repayments where borrow_id = %s and status = 'PROCESSING'",
                        (borrow_id,)).fetchone()


def finish(conn, repayment_id: int, status: str, reason: str | None) -> dict | None:
    """PROCESSING -> SUCCESS or FAILED; None when it was final already."""
    return conn.execute("update repayments set status = %s, reason = %s, settled_at = now()"
                        " where id = %s and status = 'PROCESSING' returning *",
                        (status, reason, repayment_id)).fetchone()
