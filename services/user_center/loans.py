"""The signed-in user's loans ("我的借款"), read from lending's ``GET /internal/loans?userNo=`` with the
service token and given to the browser with yuan strings for every amount."""
from shared.errors import AppError, Unavailable
from shared.http import ServiceClient, ServiceUnreachable, json_object
from shared.money import format_fen

LOAN_AMOUNTS = ("amount", "serviceFee")
PLAN_AMOUNTS = ("principal", "interest", "penalty", "total", "paid")
LOAN_FIELDS = {"borrowNo": str, "orderNo": str, "status": int, "term": int, "annualRate": str, "repaymentWay": str}
PLAN_FIELDS = {"period": int, "dueDate": str, "status": int, "overdueDays": int}


class LendingError(AppError):
    """lending answered something that is not a list of loans: a fault between services."""

    status, code = 502, 952


class LendingClient:
    """lending's reads for the platform's services."""

    def __init__(self, base_url: str, config: dict):
        self.client = ServiceClient(base_url, config, timeout=config["SERVICE_TIMEOUT_SECONDS"])

    def loans_of(self, user_no: str) -> list[dict]:
        """The user's loans as lending gives them (amounts in fen); :class:`Unavailable` when lending cannot
        answer, :class:`LendingError` when its answer is not the list."""
        try:
            response = self.client.get("/internal/loans", params={"userNo": user_no})
        except ServiceUnreachable as exc:
            raise Unavailable(f"the loans cannot be read now: lending is unreachable ({exc.kind}), try again later") \
                from exc
        if response.status_code >= 500:
            raise Unavailable(f"the loans cannot be read now: lending answered {response.status_code}, try again later")
        loans = json_object(response.content).get("loans")
        if response.status_code != 200 or not isinstance(loans, list):
            raise LendingError(f"lending answered {response.status_code} without the loans")
        return loans


def _checked(record, expected: dict, amounts: tuple) -> dict:
    """``record``'s fields of ``expected`` types, and its ``amounts`` (integer fen) in yuan."""
    if not isinstance(record, dict):
        raise LendingError("lending answered a loan that is not an object")
    shown = {}
    for name, kind in expected.items():
        value = record.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise LendingError(f"lending answered a loan without a valid {name}")
        shown[name] = value
    for name in amounts:
        value = record.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise LendingError(f"lending answered an amount {name} that is not whole fen")
        shown[name] = format_fen(value)
    return shown


def my_loans(lending: LendingClient, user_no: str) -> dict:
    """``{loans: [{borrowNo, orderNo, status, amount, serviceFee, term, annualRate, repaymentWay, loanTime,
    plans: [{period, dueDate, principal, interest, penalty, total, paid, status, overdueDays}]}]}`` of
    ``user_no`` only, newest first, amounts in yuan."""
    loans = []
    for loan in lending.loans_of(user_no):
        shown = _checked(loan, LOAN_FIELDS, LOAN_AMOUNTS)
        loan_time = loan.get("loanTime")
        shown["loanTime"] = loan_time if isinstance(loan_time, str) else None
        plans = loan.get("plans")
        if not isinstance(plans, list):
            raise LendingError("lending answered a loan without its plan")
        shown["plans"] = [_checked(line, PLAN_FIELDS, PLAN_AMOUNTS) for line in plans]
        loans.append(shown)
    return {"loans": loans}
