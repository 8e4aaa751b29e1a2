"""Freezes: USER_AUTO_PRE_TRANSACTION and CANCEL_PRE_TRANSACTION (docs/bank_sandbox.md, "Transaction
services").

A TENDER freezes a funder's money for a project (any depository user but its borrower), within what
the project may still raise; a REPAYMENT freezes the borrower's money for their own project. Both take
it from the user's available balance into the frozen one. A cancel gives back, once, what a freeze
still holds, for exactly that amount.

Locks are taken in one order everywhere: project, pre-transactions, users, the platform's account.
"""
from shared import contract
from shared.money import format_fen

from bank_sandbox import projects as project_rules
from bank_sandbox.repository import pre_transactions, projects, transactions, users
from bank_sandbox.service_requests import ServiceRequest
from bank_sandbox.service_results import amounts_differ, bad_parameters, insufficient, no_pre_transaction


def freeze(conn, config: dict, request: ServiceRequest) -> None:
    """Freeze ``amount`` of the user's available balance for the project."""
    fields = request.fields
    user_no, amount, biz_type = fields["userNo"], fields["amount"], fields["bizType"]
    tender = biz_type == contract.TENDER
    project = project_rules.known(conn, fields["projectNo"], lock=tender)
    if tender:
        if user_no == project["user_no"]:
            raise bad_parameters(f"userNo {user_no} is the project's borrower: a borrower cannot tender")
        project_rules.check_raising(project)
        if users.get(conn, user_no) is None:
            raise bad_parameters(f"userNo {user_no} has no depository account")
        if not projects.add_raising(conn, project["project_no"], amount):
            raise amounts_differ(f"the project's tenders would exceed its amount of "
                                 f"{format_fen(project['project_amount'])} (lent {format_fen(project['loaned'])},"
                                 f" frozen {format_fen(project['raising'])})")
    elif user_no != project["user_no"]:
        raise bad_parameters(f"userNo {user_no} is not the borrower of project {project['project_no']}")
    balances = users.change(conn, user_no, -amount, amount)
    if balances is None:
        raise insufficient(f"available balance insufficient for {format_fen(amount)}")
    pre_transactions.insert(conn, request.request_no, project["project_no"], user_no, biz_type, amount)
    transactions.insert(conn, {
        "request_no": request.request_no, "platform_no": request.platform_no, "service_name": request.service_name,
        "user_no": user_no, "amount": amount, "balances": balances, "project_no": project["project_no"],
        "biz_type": biz_type})


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
