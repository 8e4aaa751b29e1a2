"""ledger_postings: the ledger mirror's postings, written with the result they mirror."""
ADD, DEDUCT, REFUND = "add", "deduct", "refund"
PENDING, POSTED, REFUSED = 0, 1, 2


def record(conn, op: str, eid: str, trade_no: str, amount: int) -> dict:
    """Add a posting (once per op, eid and trade number); returns the stored row, which a caller
    compares: the same key with another amount is an anomaly."""
    row = conn.execute("insert into ledger_postings (op, eid, trade_no, amount) values (%s, %s, %s, %s)"
                       " on conflict (op, eid, trade_no) do nothing returning *",
                       (op, eid, trade_no, amount)).fetchone()
    return row or conn.execute("select * from ledger_postings where op = %s and eid = %s and trade_no = %s",
                               (op, eid, trade_no)).fetchone()


def claim_due(conn, batch: int, lease_seconds: int) -> list[dict]:
    """Lease pending postings that are due, oldest first (a deduct before its refund; skip locked)."""
    return conn.execute(
        "update ledger_postings set next_attempt_at = now() + make_interval(secs => %(lease)s),"
        " attempts = attempts + 1 where id in (select id from ledger_postings where status = 0"
        " and next_attempt_at <= now() order by id limit %(batch)s for update skip locked) returning *",
        {"batch": batch, "lease": lease_seconds}).fetchall()


def mark_posted(conn, ids: list[int]) -> None:
    conn.execute("update ledger_postings set status = 1, posted_at = now(), last_error = null"
                 " where id = any(%s) and status = 0", (ids,))


def retry_later(conn, posting_id: int, delay_seconds: int, error: str) -> None:
    conn.execute("update ledger_postings set next_attempt_at = now() + make_interval(secs => %s), last_error = %s"
                 " where id = %s and status = 0", (delay_seconds, error[:500], posting_id))


def refuse(conn, posting_id: int, error: str) -> None:
    conn.execute("update ledger_postings set status = 2, last_error = %s where id = %s and status = 0",
                 (error[:500], posting_id))


def requeue_refused(conn) -> int:
    """Refused postings pending again (after an operator fixed the cause)."""
    return conn.execute("update ledger_postings set status = 0, attempts = 0, next_attempt_at = now()"
                        " where status = 2").rowcount
