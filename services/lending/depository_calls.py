"""The calls lending makes to the depository agent (docs/protocols.md): stored before they are sent, with
the exact body every resend repeats.

A call is created inside the transaction of the state change that needs it; whoever committed that
transaction sends it at once (:func:`lending.settlement.send`), and the result consumers resend every
call still pending after CALL_RESEND_SECONDS: the agent answers a repeat of a requestNo with the same
body the same way, so a resend can only learn, never act twice.
"""
from shared.contract import (CANCEL_PRE_TRANSACTION, CONFIRM_LOAN, CONFIRM_REPAYMENT, CREATE_PROJECT,
                                     MODIFY_PROJECT, PRE_TRANSACTION)
from shared.money import format_fen

from lending.identifiers import new_request_no
from lending.repository import calls

DOMAIN = {"project": "loan", "project-status": "loan", "tender": "loan", "tender-cancel": "loan", "loan": "loan",
          "repay-freeze": "repay", "repay-cancel": "repay", "repay-confirm": "repay"}
CANCELS = {"tender": "tender-cancel", "repay-freeze": "repay-cancel"}


def create(conn, service: str, purpose: str, borrow: dict, body: dict, repayment_id: int | None = None,
           pre_request_no: str | None = None, user_no: str | None = None, amount: int | None = None,
           request_no: str | None = None) -> str | None:
    """Store a call (with a new requestNo unless one is given); returns its requestNo, or None when an
    equivalent call exists (a freeze already being cancelled)."""
    request_no = request_no or new_request_no()
    stored = calls.insert(conn, {
        "request_no": request_no, "service": service, "purpose": purpose, "domain": DOMAIN[purpose],
        "borrow_id": borrow["id"], "repayment_id": repayment_id, "pre_request_no": pre_request_no,
        "user_no": user_no, "amount": amount, "body": {"requestNo": request_no, **body}})
    return request_no if stored else None


def create_project(conn, borrow: dict) -> str:
    return create(conn, CREATE_PROJECT, "project", borrow, {
        "projectNo": borrow["project_no"], "userNo": borrow["user_no"], "projectAmount": format_fen(borrow["amount"]),
        "projectName": f"借款 {borrow['order_no']}", "projectPeriod": borrow["term"],
        "annualRate": _rate_text(borrow["annual_rate"]), "repaymentWay": borrow["repayment_way"]})


def set_project_status(conn, borrow: dict, status: str) -> str:
    return create(conn, MODIFY_PROJECT, "project-status", borrow,
                  {"projectNo": borrow["project_no"], "projectStatus": status})


def freeze(conn, purpose: str, borrow: dict, user_no: str, amount: int, biz_type: str,
           repayment_id: int | None = None, request_no: str | None = None) -> str:
    """A USER_AUTO_PRE_TRANSACTION: freeze ``amount`` of ``user_no``'s available balance for the project."""
    return create(conn, PRE_TRANSACTION, purpose, borrow, {
        "userNo": user_no, "amount": format_fen(amount), "bizType": biz_type, "projectNo": borrow["project_no"]},
        repayment_id=repayment_id, user_no=user_no, amount=amount, request_no=request_no)


def cancel(conn, freeze_call: dict, borrow: dict) -> list[str]:
    """Cancel what a successful freeze still holds (at most once per freeze); the new call, if any."""
    request_no = create(conn, CANCEL_PRE_TRANSACTION, CANCELS[freeze_call["purpose"]], borrow, {
        "preRequestNo": freeze_call["request_no"], "userNo": freeze_call["user_no"],
        "amount": format_fen(freeze_call["amount"])}, repayment_id=freeze_call["repayment_id"],
        pre_request_no=freeze_call["request_no"], user_no=freeze_call["user_no"], amount=freeze_call["amount"])
    return [request_no] if request_no else []


def confirm_loan(conn, borrow: dict, tender: dict) -> str:
    return create(conn, CONFIRM_LOAN, "loan", borrow, {
        "projectNo": borrow["project_no"], "commission": format_fen(borrow["service_fee"]),
        "details": [{"preRequestNo": tender["request_no"], "amount": format_fen(tender["amount"])}]},
        pre_request_no=tender["request_no"], user_no=borrow["user_no"], amount=borrow["amount"])


def confirm_repayment(conn, borrow: dict, repayment: dict, frozen: dict) -> str:
    """Pay a frozen repayment out: principal + interest to the funder, the penalty to the platform."""
    return create(conn, CONFIRM_REPAYMENT, "repay-confirm", borrow, {
        "preRequestNo": frozen["request_no"], "projectNo": borrow["project_no"],
        "commission": format_fen(repayment["penalty"]),
        "details": [{"userNo": borrow["funder_user_no"], "amount": format_fen(repayment["principal"]),
                     "interest": format_fen(repayment["interest"])}]},
        repayment_id=repayment["id"], pre_request_no=frozen["request_no"], user_no=borrow["funder_user_no"],
        amount=repayment["amount"])


def _rate_text(rate) -> str:
    """An annual rate as the agent reads it: a plain decimal string such as ``"0.18"``."""
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
