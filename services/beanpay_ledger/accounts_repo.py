"""SQL of wallet accounts and postings; each call is one statement (sql/02_accounts.sql .. 05_releases.sql)."""
import json
from datetime import datetime
from typing import Sequence

import psycopg
from psycopg.rows import tuple_row

from beanpay_ledger.store import fetch


def open_account(eid: str, name: str, kind: str, credit: int) -> tuple[bool, str]:
    """Create the account of ``eid`` unless it exists: ``(created, account JSON)``."""
    return fetch("select created, account::text from account_open(%s, %s, %s, %s)", (eid, name, kind, credit))


def account_json(eid: str) -> str | None:
    """The account of ``eid`` as JSON text, or None."""
    row = fetch("select account_json(a)::text from account a where eid = %s", (eid,))
    return row[0] if row else None


def balance_json(eid: str) -> str | None:
    """``{account_id, eid, balance, credit}`` as JSON text, or None."""
    row = fetch("select json_build_object('account_id', account_id, 'eid', eid, 'balance', balance,"
                " 'credit', credit)::text from account where eid = %s", (eid,))
    return row[0] if row else None


def set_status(eid: str, status: int) -> str | None:
    """Lock (1) or unlock (0) the account; its JSON text after, or None when unknown."""
    return fetch("select account_set_status(%s, %s::int2)::text", (eid, status))[0]


def post_batch(conn: psycopg.Connection, change_types: Sequence[int], eids: Sequence[str],
               trade_nos: Sequence[str], amounts: Sequence[int]) -> list[tuple[str, str | None]]:
    """Apply postings in order, in one transaction and round trip: ``[(outcome, record JSON text)]`` in order.

    Outcomes are listed in sql/04_postings.sql. ``conn`` is in autocommit mode, so the
    rows arrive only once the transaction has committed.
    """
    postings = json.dumps([{"change_type": c, "eid": e, "trade_no": t, "amount": a}
                           for c, e, t, a in zip(change_types, eids, trade_nos, amounts)], ensure_ascii=False)
    with conn.cursor(row_factory=tuple_row) as cursor:
        return cursor.execute("select outcome, record from ledger_post_batch(ledger_postings(%s::json))",
                              (postings,), prepare=True).fetchall()


def release(eid: str, trade_no: str, amount: int) -> tuple[str, str | None]:
    """Release the hold ``trade_no`` for good (migrations/004_released_holds.sql): ``(outcome, answer JSON text)``,
    the outcome ``posted``, ``replay`` or a refusal."""
    return fetch("select outcome, body from ledger_release(%s, %s, %s)", (eid, trade_no, amount))


def records_json(eid: str, change_type: int | None, start: datetime | None, end: datetime | None,
                 limit: int, offset: int) -> str | None:
    """A page of the account's records as ``{count, data}`` JSON text, or None when the account is unknown."""
    row = fetch("select account_records(%s, %s::int2, %s, %s, %s, %s)::text",
                (eid, change_type, start, end, limit, offset))
    return row[0]
