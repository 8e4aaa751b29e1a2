"""SQL of service packages and their capacity postings (sql/06_packages.sql)."""
from datetime import date, datetime

import psycopg

from beanpay_ledger.repository import fetch_one


def open_package(conn: psycopg.Connection, eid: str, spkg_id: str, name: str, total: int, daily: int | None,
                 expires: date) -> tuple[str, str | None]:
    """Create a package unless it exists: ``(created | exists | no_account, package JSON text)``."""
    return fetch_one(conn, "select outcome, package::text from package_open(%s, %s, %s, %s, %s, %s)",
                     (eid, spkg_id, name, total, daily, expires))


def package_json(conn: psycopg.Connection, eid: str, spkg_id: str) -> str | None:
    """The package as JSON text, or None when the account or package is unknown."""
    return fetch_one(conn, "select package_find(%s, %s)::text", (eid, spkg_id))[0]


def post(conn: psycopg.Connection, change_type: int, eid: str, spkg_id: str, trade_no: str,
         num: int) -> tuple[str, str | None]:
    """Apply one capacity posting: ``(outcome, record JSON text)``."""
    return fetch_one(conn, "select outcome, record::text from package_post(%s::int2, %s, %s, %s, %s)",
                     (change_type, eid, spkg_id, trade_no, num))


def records_json(conn: psycopg.Connection, eid: str, spkg_id: str, change_type: int | None,
                 start: datetime | None, end: datetime | None, limit: int, offset: int) -> str | None:
    """A page of the package's records as ``{count, data}`` JSON text, or None when unknown."""
    return fetch_one(conn, "select package_records(%s, %s, %s::int2, %s, %s, %s, %s)::text",
                     (eid, spkg_id, change_type, start, end, limit, offset))[0]
