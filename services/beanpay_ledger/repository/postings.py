"""SQL of wallet postings and releases (sql/04_postings.sql, sql/05_releases.sql)."""
import json
from typing import NamedTuple, Sequence

import psycopg

from beanpay_ledger.repository import fetch_all, fetch_one


class Posting(NamedTuple):
    """One wallet posting: ``change_type`` 1 add, 2 deduct, 3 refund; ``amount`` fen, positive."""

    change_type: int
    eid: str
    trade_no: str
    amount: int


def post(conn: psycopg.Connection, postings: Sequence[Posting]) -> list[tuple[str, str | None]]:
    """Apply ``postings`` in order in one call: ``[(outcome, record JSON text)]`` in the same order (outcomes:
    sql/04_postings.sql). On an autocommit connection the rows arrive once the call has committed."""
    # A JSON list costs less to build and to send than one array per field or a composite array. Not
    # escaped to ASCII: a lone surrogate then fails to encode before anything is sent, as in any parameter.
    text = json.dumps([posting._asdict() for posting in postings], ensure_ascii=False)
    return fetch_all(conn, "select outcome, record from ledger_post_batch(ledger_postings(%s::json))", (text,))


def release(conn: psycopg.Connection, eid: str, trade_no: str, amount: int) -> tuple[str, str | None]:
    """Release the hold ``trade_no`` for good: ``(outcome, answer JSON text)``, the outcome ``posted``,
    ``replay`` or a refusal."""
    return fetch_one(conn, "select outcome, body from ledger_release(%s, %s, %s)", (eid, trade_no, amount))
