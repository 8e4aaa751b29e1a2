"""Service packages: opening, capacity postings (add, deduct, refund), queries and record pages, on the
caller's connection (see :mod:`beanpay_ledger.postings` for how the connection and its transaction are used)."""
import json
from datetime import date, datetime

import psycopg

from beanpay_ledger.accounts import RECORD_PAGE_MAX
from beanpay_ledger.outcomes import ADD, DEDUCT, POSTED, REFUND, REPLAYED, Answer, answer, refusal
from beanpay_ledger.repository import packages as repository
from beanpay_ledger.validation import MAX_AMOUNT, amount, identifier, label, load, trade_number
from shared.errors import NotFound

CAPACITY_FIELDS = ("spkg_id", "total_capacity", "total_remain", "capacity_daily", "deduct_today", "expires")
_PACKAGE = (("eid", identifier), ("spkg_id", identifier))


def open_package(conn: psycopg.Connection, eid: str, spkg_id: str, name: str, total: int, expires: date,
                 daily: int | None = None, max_amount: int = MAX_AMOUNT) -> Answer:
    """Create package ``spkg_id`` of ``eid`` holding ``total`` uses, usable until ``expires`` (inclusive), at
    most ``daily`` a business day (200); an existing one answers 201; :class:`NotFound` for an unknown eid."""
    eid, spkg_id, name, total = load({"eid": eid, "spkg_id": spkg_id, "name": name, "total": total},
                                     (*_PACKAGE, ("name", label(128)), ("total", amount(0, max_amount))))
    if daily is not None:
        daily = load({"daily": daily}, (("daily", amount(1, max_amount)),))[0]
    outcome, package = repository.open_package(conn, eid, spkg_id, name, total, daily, expires)
    if outcome == "no_account":
        raise refusal(outcome, f"eid {eid}")
    return Answer(package, POSTED if outcome == "created" else REPLAYED)


def package(conn: psycopg.Connection, eid: str, spkg_id: str) -> Answer:
    """``{spkg_id, eid, name, total_capacity, total_remain, capacity_daily, deduct_today, expires, create_time}``."""
    eid, spkg_id = load({"eid": eid, "spkg_id": spkg_id}, _PACKAGE)
    return _found(repository.package_json(conn, eid, spkg_id), eid, spkg_id)


def capacity(conn: psycopg.Connection, eid: str, spkg_id: str) -> Answer:
    """``{spkg_id, total_capacity, total_remain, capacity_daily, deduct_today, expires}``."""
    found = package(conn, eid, spkg_id).json()
    # encoded as the web shell encodes JSON it builds itself (compact, ASCII, one line)
    return Answer(json.dumps({field: found[field] for field in CAPACITY_FIELDS}, separators=(",", ":")) + "\n")


def add(conn: psycopg.Connection, eid: str, spkg_id: str, trade_no: str, num: int,
        max_amount: int = MAX_AMOUNT) -> Answer:
    """Add ``num`` uses to the package's capacity."""
    return _post(conn, ADD, eid, spkg_id, trade_no, num, max_amount)


def deduct(conn: psycopg.Connection, eid: str, spkg_id: str, trade_no: str, num: int,
           max_amount: int = MAX_AMOUNT) -> Answer:
    """Use ``num``: never below 0, within the daily limit, not after ``expires`` (422/906)."""
    return _post(conn, DEDUCT, eid, spkg_id, trade_no, num, max_amount)


def refund(conn: psycopg.Connection, eid: str, spkg_id: str, trade_no: str, num: int,
           max_amount: int = MAX_AMOUNT) -> Answer:
    """Give back (part of) the deduct ``trade_no``, once."""
    return _post(conn, REFUND, eid, spkg_id, trade_no, num, max_amount)


def records(conn: psycopg.Connection, eid: str, spkg_id: str, change_type: int | None = None,
            start: datetime | None = None, end: datetime | None = None, page: int = 1,
            page_size: int = 20) -> Answer:
    """The package's records, newest first: ``{count, data}`` (``change_type`` 0 opening, 1..3 as postings)."""
    eid, spkg_id, page, page_size = load({"eid": eid, "spkg_id": spkg_id, "pi": page, "ps": page_size},
                                         (*_PACKAGE, ("pi", amount(1, 1_000_000)),
                                          ("ps", amount(1, RECORD_PAGE_MAX))))
    body = repository.records_json(conn, eid, spkg_id, change_type, start, end, page_size, (page - 1) * page_size)
    return _found(body, eid, spkg_id)


def _post(conn: psycopg.Connection, change_type: int, eid: str, spkg_id: str, trade_no: str, num: int,
          max_amount: int) -> Answer:
    eid, spkg_id, trade_no, num = load({"eid": eid, "spkg_id": spkg_id, "trade_no": trade_no, "num": num},
                                       (*_PACKAGE, ("trade_no", trade_number), ("num", amount(1, max_amount))))
    outcome, record = repository.post(conn, change_type, eid, spkg_id, trade_no, num)
    return answer(outcome, record, f"eid {eid}, spkg_id {spkg_id}, trade_no {trade_no}")


def _found(body: str | None, eid: str, spkg_id: str) -> Answer:
    if body is None:
        raise NotFound(f"service package not found: eid {eid}, spkg_id {spkg_id}")
    return Answer(body)
