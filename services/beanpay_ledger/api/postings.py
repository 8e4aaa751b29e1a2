"""The posting endpoints: add, deduct, refund and release (docs/beanpay_ledger.md, "How a posting runs").

Single postings of this process are committed in groups (group_commit.py): the handler queues its posting
and answers once its group has committed.
"""
from beanpay_ledger import postings
from beanpay_ledger.api.schemas import PostingArgs, RecordSchema, ReleaseSchema
from beanpay_ledger.api.shell import Routes
from beanpay_ledger.bootstrap import Dependencies
from beanpay_ledger.outcomes import ADD, DEDUCT, REFUND, Answer

routes = Routes("postings", "wallet postings: add, deduct, refund, release")
POSTING_ERRORS = (404, 409, 422, 423)


@routes.endpoint("/account/balance/add", PostingArgs, RecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def add(deps: Dependencies, args: dict) -> Answer:
    """Credit ``amount`` fen: 200 with the new record, 201 with the original one on a replay."""
    return _post(deps, ADD, args)


@routes.endpoint("/account/balance/deduct", PostingArgs, RecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def deduct(deps: Dependencies, args: dict) -> Answer:
    """Debit ``amount`` fen; balance + credit may not go below 0 (422)."""
    return _post(deps, DEDUCT, args)


@routes.endpoint("/account/balance/refund", PostingArgs, RecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def refund(deps: Dependencies, args: dict) -> Answer:
    """Refund (part of) the deduct ``trade_no``: at most its amount, once."""
    return _post(deps, REFUND, args)


@routes.endpoint("/account/balance/release", PostingArgs, ReleaseSchema, successes=(200, 201),
                 errors=(409, 422, 423))
def release(deps: Dependencies, args: dict) -> Answer:
    """Give the hold ``trade_no`` (``amount`` fen) back for good, whether its deduct came or is still on its way:
    a deduct there is refunded (``released: refund``); without one the trade number is recorded, and a deduct
    with it is refused from then on (409/911; ``released: void``). 200 released now, 201 released before."""
    with deps.pool.connection() as conn:
        return postings.release(conn, args["eid"], args["trade_no"], args["amount"], deps.max_amount)


def _post(deps: Dependencies, change_type: int, args: dict) -> Answer:
    posting = postings.Posting(change_type, args["eid"], args["trade_no"], args["amount"])
    return postings.answer_of(posting, *deps.postings.post(posting))
