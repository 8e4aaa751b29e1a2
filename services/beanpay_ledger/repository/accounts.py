"""SQL of wallet accounts and their records (sql/02_accounts.sql, sql/03_account_records.sql)."""
from datetime import datetime

import psycopg

from beanpay_ledger.repository import fetch_one


def open_account(conn: psycopg.Connection, eid: str, name: str, kind: str, credit: int) -> tuple[bool, str]:
    """Create the account of ``eid`` unless it exists: ``(created, account JSON text)``."""
    return fetch_one(conn, "select created, account::text from account_open(%s, %s, %s, %s)",
                     (eid, name, kind, credit))


def account_json(conn: psycopg.Connection, eid: str) -> str | None:
    """The account of ``eid`` as JSON text, or None."""
    row = fetch_one(conn, "select account_json(a)::text from account a where eid = %s", (eid,))
    return row[0] if row else None


def balance_json(conn: psycopg.Connection, eid: str) -> str | None:
    """``{account_id, eid, balance, credit}`` as JSON text, or None."""
    row = fetch_one(conn, "select json_build_object('account_id', account_id, 'eid', eid, 'balance', balance,"
                          " 'credit', credit)::text from account where eid = %s", (eid,))
    return row[0] if row else None


def set_status(conn: psycopg.Connection, eid: str, status: int) -> str | None:
    """Lock (1) or unlock (0) the account; its JSON text after, or None when unknown."""
    return fetch_one(conn, "select account_set_status(%s, %s::int2)::text", (eid, status))[0]


def records_json(conn: psycopg.Connection, eid: str, change_type: int | None, start: datetime | None,
                 end: datetime | None, limit: int, offset: int) -> str | None:
    """A page of the account's records as ``{count, data}`` JSON text, or None when the account is unknown."""
    return fetch_one(conn, "select account_records(%s, %s::int2, %s, %s, %s, %s)::text",
                     (eid, change_type, start, end, limit, offset))[0]
