"""Wallet accounts: opening, queries, locking and the record pages, on the caller's connection (see
:mod:`beanpay_ledger.postings` for how the connection and its transaction are used)."""
from datetime import datetime

import psycopg

from beanpay_ledger.outcomes import POSTED, REPLAYED, Answer
from beanpay_ledger.repository import accounts as repository
from beanpay_ledger.validation import MAX_AMOUNT, amount, identifier, label, load
from shared.errors import NotFound

RECORD_PAGE_MAX = 100
LOCKED, NORMAL = 1, 0


def open_account(conn: psycopg.Connection, eid: str, name: str, type: str = "", credit: int = 0,
                 max_amount: int = MAX_AMOUNT) -> Answer:
    """Open the wallet of ``eid`` (200); an existing eid answers its account, unchanged, with 201."""
    eid, name, type, credit = load({"eid": eid, "name": name, "type": type, "credit": credit},
                                   (("eid", identifier), ("name", label(128)), ("type", label(32)),
                                    ("credit", amount(0, max_amount))))
    created, account = repository.open_account(conn, eid, name, type, credit)
    return Answer(account, POSTED if created else REPLAYED)


def account(conn: psycopg.Connection, eid: str) -> Answer:
    """``{account_id, eid, name, type, balance, credit, status, create_time}``; :class:`NotFound` when unknown."""
    return _found(repository.account_json(conn, _eid(eid)), eid)


def balance(conn: psycopg.Connection, eid: str) -> Answer:
    """``{account_id, eid, balance, credit}``; :class:`NotFound` when unknown."""
    return _found(repository.balance_json(conn, _eid(eid)), eid)


def lock(conn: psycopg.Connection, eid: str) -> Answer:
    """Lock the account: postings are refused with 423 until it is unlocked (replays still answer)."""
    return _found(repository.set_status(conn, _eid(eid), LOCKED), eid)


def unlock(conn: psycopg.Connection, eid: str) -> Answer:
    """Unlock the account."""
    return _found(repository.set_status(conn, _eid(eid), NORMAL), eid)


def records(conn: psycopg.Connection, eid: str, change_type: int | None = None, start: datetime | None = None,
            end: datetime | None = None, page: int = 1, page_size: int = 20) -> Answer:
    """The account's records, newest first: ``{count, data}``. ``start`` (inclusive) and ``end`` (exclusive) are
    business local times; ``change_type`` 1 add, 2 deduct, 3 refund; pages from 1, of 1..100 records."""
    page, page_size = load({"pi": page, "ps": page_size}, (("pi", amount(1, 1_000_000)),
                                                            ("ps", amount(1, RECORD_PAGE_MAX))))
    body = repository.records_json(conn, _eid(eid), change_type, start, end, page_size, (page - 1) * page_size)
    return _found(body, eid)


def _eid(eid: str) -> str:
    return load({"eid": eid}, (("eid", identifier),))[0]


def _found(body: str | None, eid: str) -> Answer:
    if body is None:
        raise NotFound(f"account not found: {eid}")
    return Answer(body)
