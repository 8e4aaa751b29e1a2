"""Wallet endpoints: accounts, balances and records (docs/beanpay_ledger.md, "API")."""
from beanpay_ledger import accounts
from beanpay_ledger.api.schemas import (AccountCreateArgs, AccountSchema, BalanceSchema, EidArgs, RecordPageSchema,
                                        RecordQueryArgs)
from beanpay_ledger.api.shell import Routes
from beanpay_ledger.bootstrap import Dependencies
from beanpay_ledger.outcomes import Answer

routes = Routes("accounts", "wallet accounts, balances and records")


@routes.endpoint("/account/create", AccountCreateArgs, AccountSchema, successes=(200, 201))
def create_account(deps: Dependencies, args: dict) -> Answer:
    """Open the wallet of ``eid`` (200); an existing eid answers its account with 201."""
    with deps.pool.connection() as conn:
        return accounts.open_account(conn, args["eid"], args["name"], args["type"], args["credit"],
                                     deps.max_amount)


@routes.endpoint("/account/query", EidArgs, AccountSchema, errors=(404,))
def query_account(deps: Dependencies, args: dict) -> Answer:
    """The account of ``eid``."""
    with deps.pool.connection() as conn:
        return accounts.account(conn, args["eid"])


@routes.endpoint("/account/lock", EidArgs, AccountSchema, errors=(404,))
def lock_account(deps: Dependencies, args: dict) -> Answer:
    """Lock the account: postings are refused with 423 until it is unlocked (replays still answer)."""
    with deps.pool.connection() as conn:
        return accounts.lock(conn, args["eid"])


@routes.endpoint("/account/unlock", EidArgs, AccountSchema, errors=(404,))
def unlock_account(deps: Dependencies, args: dict) -> Answer:
    """Unlock the account."""
    with deps.pool.connection() as conn:
        return accounts.unlock(conn, args["eid"])


@routes.endpoint("/account/balance/query", EidArgs, BalanceSchema, errors=(404,))
def query_balance(deps: Dependencies, args: dict) -> Answer:
    """``{account_id, eid, balance, credit}`` of ``eid``."""
    with deps.pool.connection() as conn:
        return accounts.balance(conn, args["eid"])


@routes.endpoint("/account/record/query", RecordQueryArgs, RecordPageSchema, errors=(404,))
def query_records(deps: Dependencies, args: dict) -> Answer:
    """The account's records, newest first: ``{count, data}``."""
    with deps.pool.connection() as conn:
        return accounts.records(conn, args["eid"], args["change_type"], args["start"], args["end"], args["pi"],
                                args["ps"])
