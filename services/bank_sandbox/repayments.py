"""CONFIRM_REPAYMENT: the borrower's REPAYMENT freeze is paid out to the project's funders and the
platform (docs/bank_sandbox.md, "Transaction services").

The freeze ``preRequestNo`` must be a REPAYMENT of this project (so its borrower's), still frozen, and
hold exactly Σ(amount + interest) + commission; each detail's userNo must be a funder of the project
(a TENDER of it used by a confirmed loan). Each funder receives amount + interest in the available
balance, the platform the commission.
"""
from shared import contract
from shared.money import format_fen

from bank_sandbox import projects as project_rules
from bank_sandbox.repository import platform_accounts, pre_transactions, transactions, users
from bank_sandbox.service_requests import ServiceRequest
from bank_sandbox.service_results import amounts_differ, bad_parameters, no_pre_transaction


def confirm(conn, config: dict, request: ServiceRequest) -> None:
    fields = request.fields
    pre_request_no, details, commission = fields["preRequestNo"], fields["details"], fields["commission"]
    project = project_rules.known(conn, fields["projectNo"])
    freeze = pre_transactions.lock_many(conn, [pre_request_no]).get(pre_request_no)
    if freeze is None or freeze["biz_type"] != contract.REPAYMENT or freeze["project_no"] != project["project_no"]:
        raise no_pre_transaction(f"no REPAYMENT pre-transaction {pre_request_no} of project {project['project_no']}")
    if freeze["state"] != pre_transactions.FROZEN:
        raise no_pre_transaction(f"pre-transaction {pre_request_no} is {freeze['state'].lower()} already")
    funders = [detail["userNo"] for detail in details]
    strangers = sorted(set(funders) - pre_transactions.lenders(conn, project["project_no"], funders))
    if strangers:
        raise bad_parameters(f"userNo {strangers[0]} did not lend to project {project['project_no']}")
    paid = sum(detail["amount"] + detail["interest"] for detail in details)
    if paid + commission != freeze["amount"]:
        raise amounts_differ(f"the details pay {format_fen(paid)} and the commission {format_fen(commission)},"
                             f" but pre-transaction {pre_request_no} holds {format_fen(freeze['amount'])}")
    borrower = freeze["user_no"]
    users.lock_many(conn, [*funders, borrower])
    pre_transactions.settle(conn, pre_request_no, pre_transactions.USED, request.request_no)
    balances = users.change(conn, borrower, 0, -freeze["amount"])
    for detail in sorted(details, key=lambda entry: entry["userNo"]):
        users.change(conn, detail["userNo"], detail["amount"] + detail["interest"], 0)
    if commission:
        platform_accounts.credit(conn, request.platform_no, commission)
    transactions.insert(conn, {
        "request_no": request.request_no, "platform_no": request.platform_no, "service_name": request.service_name,
        "user_no": borrower, "amount": paid, "commission": commission, "balances": balances,
        "project_no": project["project_no"], "pre_request_no": pre_request_no,
        "details": [{"userNo": detail["userNo"], "amount": format_fen(detail["amount"]),
                     "interest": format_fen(detail["interest"])} for detail in details]})
