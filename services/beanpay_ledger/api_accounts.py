"""Wallet endpoints: accounts, postings, balances and records (docs/protocols.md)."""
from flask import current_app

from beanpay_ledger import accounts_repo
from beanpay_ledger.outcomes import ADD, DEDUCT, REFUND
from beanpay_ledger.responses import json_response, posting_response
from beanpay_ledger.routing import LedgerBlueprint
from beanpay_ledger.schemas import (AccountCreateArgs, AccountSchema, BalanceSchema, EidArgs, PostingArgs,
                                    RecordPageSchema, RecordQueryArgs, RecordSchema, ReleaseSchema)
from shared.errors import NotFound

bp = LedgerBlueprint("accounts", __name__, description="wallet accounts and their postings")
POSTING_ERRORS = (404, 409, 422, 423)


def _found(body: str | None, eid: str) -> str:
    if body is None:
        raise NotFound(f"account not found: {eid}")
    return body


@bp.endpoint("/account/create", AccountCreateArgs, AccountSchema, successes=(200, 201))
def create_account(args):
    """Open the wallet of ``eid`` (200); an existing eid answers its account with 201."""
    created, account = accounts_repo.open_account(args["eid"], args["name"], args["type"], args["credit"])
    return json_response(account, 200 if created else 201)


@bp.endpoint("/account/query", EidArgs, AccountSchema, errors=(404,))
def query_account(args):
    """The account of ``eid``."""
    return json_response(_found(accounts_repo.account_json(args["eid"]), args["eid"]))


@bp.endpoint("/account/lock", EidArgs, AccountSchema, errors=(404,))
def lock_account(args):
    """Lock the account: postings are refused with 423 until it is unlocked (replays still answer)."""
    return json_response(_found(accounts_repo.set_status(args["eid"], 1), args["eid"]))


@bp.endpoint("/account/unlock", EidArgs, AccountSchema, errors=(404,))
def unlock_account(args):
    """Unlock the account."""
    return json_response(_found(accounts_repo.set_status(args["eid"], 0), args["eid"]))


@bp.endpoint("/account/balance/query", EidArgs, BalanceSchema, errors=(404,))
def query_balance(args):
    """``{account_id, eid, balance, credit}`` of ``eid``."""
    return json_response(_found(accounts_repo.balance_json(args["eid"]), args["eid"]))


def _post(change_type: int, args):
    # GET and JSON POST of these three endpoints are answered by fast_postings before Flask; these
    # views (the documented reference) serve form bodies and the rest, through the same group commit.
    outcome, record = current_app.extensions["postings"].post(change_type, args["eid"], args["trade_no"],
                                                              args["amount"])
    return posting_response(outcome, record, f"eid {args['eid']}, trade_no {args['trade_no']}")


@bp.endpoint("/account/balance/add", PostingArgs, RecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def add(args):
    """Credit ``amount`` fen: 200 with the new record, 201 with the original one on a replay."""
    return _post(ADD, args)


@bp.endpoint("/account/balance/deduct", PostingArgs, RecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def deduct(args):
    """Debit ``amount`` fen; balance + credit may not go below 0 (422)."""
    return _post(DEDUCT, args)


@bp.endpoint("/account/balance/refund", PostingArgs, RecordSchema, successes=(200, 201), errors=POSTING_ERRORS)
def refund(args):
    """Refund (part of) the deduct ``trade_no``: at most its amount, once."""
    return _post(REFUND, args)


@bp.endpoint("/account/balance/release", PostingArgs, ReleaseSchema, successes=(200, 201), errors=(409, 422, 423))
def release(args):
    """Give the hold ``trade_no`` (``amount`` fen) back for good, whether its deduct came or is still on its way:
    a deduct there is refunded (``released: refund``); without one the trade number is recorded, and a deduct
    with it is refused from then on (409/911; ``released: void``). 200 released now, 201 released before."""
    outcome, body = accounts_repo.release(args["eid"], args["trade_no"], args["amount"])
    return posting_response(outcome, body, f"eid {args['eid']}, trade_no {args['trade_no']}")


@bp.endpoint("/account/record/query", RecordQueryArgs, RecordPageSchema, errors=(404,))
def query_records(args):
    """The account's records, newest first: ``{count, data}``."""
    page = accounts_repo.records_json(args["eid"], args["change_type"], args["start"], args["end"],
                                      args["ps"], (args["pi"] - 1) * args["ps"])
    return json_response(_found(page, args["eid"]))
