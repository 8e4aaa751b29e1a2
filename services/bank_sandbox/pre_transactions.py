"""Freezes: USER_AUTO_PRE_TRANSACTION and CANCEL_PRE_TRANSACTION (docs/bank_sandbox.md, "Transaction
services").

A TENDER freezes a funder's money for a project (any depository user but its borrower), within what
the project may still raise; a REPAYMENT freezes the borrower's money for their own project. Both take
it from the user's available balance into the frozen one. A cancel gives back, once, what a freeze
still holds, for exactly that amount.

Locks are taken in one order everywhere: project, pre-transactions, users, the platform's account.
The freeze itself is the database function ``bank_freeze`` (sql/01_freeze.sql), run by
:mod:`bank_sandbox.transaction_services` in one round trip.
"""
from shared import contract
from shared.money import format_fen

from bank_sandbox.repository import pre_transactions, projects, transactions, users
from bank_sandbox.service_requests import ServiceRequest
from bank_sandbox.service_results import amounts_differ, no_pre_transaction


def cancel(conn, config: dict, request: ServiceRequest) -> None:
    """Give back what the freeze ``preRequestNo`` of this user still holds, which must be ``amount``."""
    fields = request.fields
    pre_request_no, user_no, amount = fields["preRequestNo"], fields["userNo"], fields["amount"]
    seen = pre_transactions.get(conn, pre_request_no)
    if seen is None or seen["user_no"] != user_no:
        raise no_pre_transaction(f"no pre-transaction {pre_request_no} of userNo {user_no}")
    tender = seen["biz_type"] == contract.TENDER
    if tender:
        projects.lock(conn, seen["project_no"])  # its raising changes: the project's lock comes first
    pre = pre_transactions.lock_many(conn, [pre_request_no])[pre_request_no]
    if pre["state"] != pre_transactions.FROZEN:
        raise no_pre_transaction(f"pre-transaction {pre_request_no} is {pre['state'].lower()}: it holds nothing")
    if amount != pre["remaining"]:
        raise amounts_differ(f"pre-transaction {pre_request_no} holds {format_fen(pre['remaining'])},"
                             f" not {format_fen(amount)}")
    pre_transactions.settle(conn, pre_request_no, pre_transactions.CANCELLED, request.request_no)
    if tender:
        projects.add_raising(conn, pre["project_no"], -amount)
    balances = users.change(conn, user_no, amount, -amount)
    transactions.insert(conn, {
        "request_no": request.request_no, "platform_no": request.platform_no, "service_name": request.service_name,
        "user_no": user_no, "amount": amount, "balances": balances, "project_no": pre["project_no"],
        "biz_type": pre["biz_type"], "pre_request_no": pre_request_no})
