"""SQL of wallet accounts and postings; each call is one statement (see migrations/001_accounts.sql)."""
from datetime import datetime

from beanpay_ledger.store import fetch, fetch_all


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
    row = fetch("update account set status = %s where eid = %s returning account_json(account)::text",
                (status, eid))
    return row[0] if row else None


def post(change_type: int, eid: str, trade_no: str, amount: int) -> tuple[str, str | None]:
    """Apply one posting: ``(outcome, record JSON text)``; outcomes are listed in the migration."""
    return fetch("select outcome, record::text from ledger_post(%s::int2, %s, %s, %s)",
                 (change_type, eid, trade_no, amount))


def post_many(change_types: list[int], eids: list[str], trade_nos: list[str], amounts: list[int]) -> list[tuple]:
    """Apply postings in order in one transaction and round trip: ``[(index, outcome, record JSON)]``."""
    return fetch_all("select op_index, outcome, record::text from ledger_post_batch(%s::int2[], %s, %s, %s)",
                     (change_types, eids, trade_nos, amounts))


def records_json(eid: str, change_type: int | None, start: datetime | None, end: datetime | None,
                 limit: int, offset: int) -> str | None:
    """A page of the account's records as ``{count, data}`` JSON text, or None when the account is unknown."""
    row = fetch("select account_records(%s, %s::int2, %s, %s, %s, %s)::text",
                (eid, change_type, start, end, limit, offset))
    return row[0]
