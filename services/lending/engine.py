"""The rule-set credit engine behind the credit and audit queues.

A request carries everything the decision needs (``idNumber, mobile, loanAmount, loanTerm`` and the
parsed credit features), and the decision goes back as a message, so a real engine can consume the
same requests and publish the same decisions without lending changing:

- ``credit.request`` -> ``credit.decision`` ``{orderNo, approved, reasons, approvedAmount?}``
- ``audit.request`` -> ``audit.decision`` ``{borrowNo, orderNo, approved, reasons}``
"""
from datetime import date

from lending.credit_rules import CreditRules


def decide_credit(rules: CreditRules, today: date, request: dict) -> dict:
    reasons = rules.credit_refusals(request, today)
    decision = {"orderNo": request.get("orderNo"), "approved": not reasons, "reasons": reasons}
    if not reasons:
        decision["approvedAmount"] = request["loanAmount"]
    return decision


def decide_review(rules: CreditRules, today: date, request: dict) -> dict:
    reasons = rules.review_refusals(request, today)
    return {"borrowNo": request.get("borrowNo"), "orderNo": request.get("orderNo"), "approved": not reasons,
            "reasons": reasons}
