"""CONFIRM_LOAN: a project's TENDER freezes move to its borrower, then the commission to the platform
(docs/bank_sandbox.md, "Transaction services").

Each detail names a TENDER freeze of this project, still frozen, for exactly its amount; the freezes
are used (they can never be cancelled or used again), the funders' frozen balances fall by them, the
borrower's available balance rises by their sum, and then ``commission`` moves from the borrower to the
platform's account.
"""
from collections import Counter

from shared import contract
from shared.money import format_fen

from bank_sandbox import projects as project_rules
from bank_sandbox.repository import platform_accounts, pre_transactions, projects, transactions, users
from bank_sandbox.service_requests import ServiceRequest
from bank_sandbox.service_results import amounts_differ, insufficient, no_pre_transaction


def confirm(conn, config: dict, request: ServiceRequest) -> None:
    fields = request.fields
    project = project_rules.known(conn, fields["projectNo"], lock=True)
    project_rules.check_raising(project)
    details = fields["details"]
    freezes = pre_transactions.lock_many(conn, [detail["preRequestNo"] for detail in details])
    for detail in details:
        _check_tender(freezes.get(detail["preRequestNo"]), detail, project)
    total = sum(detail["amount"] for detail in details)
    funders = Counter()
    for detail in details:
        funders[freezes[detail["preRequestNo"]]["user_no"]] += detail["amount"]
    borrower, commission = project["user_no"], fields["commission"]
    users.lock_many(conn, [*funders, borrower])
    for detail in details:
        pre_transactions.settle(conn, detail["preRequestNo"], pre_transactions.USED, request.request_no)
    projects.lend(conn, project["project_no"], total)
    for funder, amount in sorted(funders.items()):
        users.change(conn, funder, 0, -amount)
    balances = users.change(conn, borrower, total - commission, 0)
    if balances is None:
        raise insufficient(f"the borrower's available balance with the loan of {format_fen(total)} cannot pay"
                           f" the commission of {format_fen(commission)}")
    if commission:
        platform_accounts.credit(conn, request.platform_no, commission)
    transactions.insert(conn, {
        "request_no": request.request_no, "platform_no": request.platform_no, "service_name": request.service_name,
        "user_no": borrower, "amount": total, "commission": commission, "balances": balances,
        "project_no": project["project_no"],
        "details": [{"preRequestNo": detail["preRequestNo"], "userNo": freezes[detail["preRequestNo"]]["user_no"],
                     "amount": format_fen(detail["amount"])} for detail in details]})


def _check_tender(freeze: dict | None, detail: dict, project: dict) -> None:
    """30010 unless the freeze is a TENDER of this project still frozen; 30050 unless it holds the detail's amount."""
    pre_request_no = detail["preRequestNo"]
    if freeze is None:
        raise no_pre_transaction(f"no pre-transaction {pre_request_no}")
    if freeze["biz_type"] != contract.TENDER:
        raise no_pre_transaction(f"pre-transaction {pre_request_no} is a {freeze['biz_type']}, not a TENDER")
    if freeze["project_no"] != project["project_no"]:
        raise no_pre_transaction(f"pre-transaction {pre_request_no} is of another project")
    if freeze["state"] != pre_transactions.FROZEN:
        raise no_pre_transaction(f"pre-transaction {pre_request_no} is {freeze['state'].lower()} already")
    if freeze["remaining"] != detail["amount"]:
        raise amounts_differ(f"pre-transaction {pre_request_no} holds {format_fen(freeze['remaining'])},"
                             f" not {format_fen(detail['amount'])}")
