"""Wallet postings: add, deduct, refund, release and batch, on the caller's connection.

Every function takes a psycopg connection and works in its transaction: on an autocommit connection each
call is its own transaction; inside a program's own transaction the postings commit or roll back with the
rest of it (README.md, "The ledger as a library"). The invariants hold either way, since PostgreSQL keeps
them (docs/beanpay_ledger.md). A refusal raises the :mod:`shared.errors` error the HTTP API answers (and
:class:`shared.ledger_client.LedgerClient` raises): it is an outcome, so the transaction goes on.
"""
from typing import Mapping, Sequence

import psycopg

from beanpay_ledger.outcomes import ADD, CHANGE_TYPES, DEDUCT, REFUND, Answer, answer
from beanpay_ledger.repository import postings as repository
from beanpay_ledger.repository.postings import Posting
from beanpay_ledger.validation import MAX_AMOUNT, load, one_of, posting_rules
from shared.errors import AppError, BadRequest

NOT_AN_OBJECT = "invalid input: each operation must be a JSON object"
_OPERATION = ("op", one_of(CHANGE_TYPES))


def add(conn: psycopg.Connection, eid: str, trade_no: str, amount: int, max_amount: int = MAX_AMOUNT) -> Answer:
    """Credit ``amount`` fen to ``eid``: the record (200), or the original one (201) for the same trade number
    and amount again."""
    return _post_one(conn, ADD, eid, trade_no, amount, max_amount)


def deduct(conn: psycopg.Connection, eid: str, trade_no: str, amount: int, max_amount: int = MAX_AMOUNT) -> Answer:
    """Debit ``amount`` fen; balance + credit may not go below 0 (422)."""
    return _post_one(conn, DEDUCT, eid, trade_no, amount, max_amount)


def refund(conn: psycopg.Connection, eid: str, trade_no: str, amount: int, max_amount: int = MAX_AMOUNT) -> Answer:
    """Refund (part of) the deduct ``trade_no``: at most its amount, once."""
    return _post_one(conn, REFUND, eid, trade_no, amount, max_amount)


def release(conn: psycopg.Connection, eid: str, trade_no: str, amount: int, max_amount: int = MAX_AMOUNT) -> Answer:
    """Give the hold ``trade_no`` (``amount`` fen) back for good, whether its deduct came or is still on its way:
    a deduct there is refunded (``released: refund``); without one the trade number is recorded, and a deduct
    with it is refused from then on (409/911; ``released: void``). 200 released now, 201 released before."""
    eid, trade_no, amount = load({"eid": eid, "trade_no": trade_no, "amount": amount}, posting_rules(max_amount))
    outcome, body = repository.release(conn, eid, trade_no, amount)
    return answer(outcome, body, _subject(eid, trade_no))


def batch(conn: psycopg.Connection, operations: Sequence, max_amount: int = MAX_AMOUNT) -> list[Answer | AppError]:
    """Each ``{op: add|deduct|refund, eid, trade_no, amount}`` validated and answered exactly as it would be alone,
    in order: an :class:`Answer`, or the refusal (not raised: one operation never affects another). The valid
    ones are applied in one call."""
    rules = (*posting_rules(max_amount), _OPERATION)
    results: list[Answer | AppError | None] = [None] * len(operations)
    accepted: list[tuple[int, Posting]] = []
    for index, operation in enumerate(operations):
        try:
            if not isinstance(operation, Mapping):
                raise BadRequest(NOT_AN_OBJECT)
            eid, trade_no, amount, change_type = load(operation, rules)
        except BadRequest as error:
            results[index] = error
            continue
        accepted.append((index, Posting(change_type, eid, trade_no, amount)))
    if accepted:
        outcomes = apply(conn, [posting for _, posting in accepted])
        for (index, posting), (outcome, record) in zip(accepted, outcomes):
            try:
                results[index] = answer_of(posting, outcome, record)
            except AppError as error:
                results[index] = error
    return results


def apply(conn: psycopg.Connection, postings: Sequence[Posting]) -> list[tuple[str, str | None]]:
    """Apply validated ``postings`` in order in one call: each one's ``(outcome, record JSON text)``, in order
    (the group commit of single postings and :func:`batch` use it)."""
    return repository.post(conn, postings)


def answer_of(posting: Posting, outcome: str, record: str | None) -> Answer:
    """The answer of ``posting``'s outcome; raises its refusal."""
    return answer(outcome, record, _subject(posting.eid, posting.trade_no))


def _post_one(conn: psycopg.Connection, change_type: int, eid: str, trade_no: str, amount: int,
              max_amount: int) -> Answer:
    posting = Posting(change_type, *load({"eid": eid, "trade_no": trade_no, "amount": amount},
                                         posting_rules(max_amount)))
    return answer_of(posting, *apply(conn, [posting])[0])


def _subject(eid: str, trade_no: str) -> str:
    return f"eid {eid}, trade_no {trade_no}"

