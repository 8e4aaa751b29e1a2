"""The credit engine: a rule set from configuration that decides credit and the risk review.

It decides on a message's content alone, so a real engine can take its place on the same queues
(``shared.contract``: the request and decision messages). A request carries everything the decision
needs (``idNumber, mobile, loanAmount, loanTerm`` and the parsed credit features):

- ``credit.request`` -> ``credit.decision`` ``{orderNo, approved, reasons, approvedAmount?}``
- ``audit.request`` -> ``audit.decision`` ``{borrowNo, orderNo, approved, reasons}``

The rules: amount and term limits, age from the ID number on the day of the decision, the ID number
itself (18 characters, GB 11643 check digit, a real birth date), the mobile (11 digits from 1), and
blacklists (docs/lending.md, "Credit rules").
"""
import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"1[0-9]{10}")


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number."""
    return _CHECK_CHARACTERS[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS)) % 11]


def id_number_problem(id_number: str) -> str | None:
    """Why ``id_number`` is not a valid 18-character ID number (upper-case X only), or None."""
    if not isinstance(id_number, str) or not _ID_NUMBER.fullmatch(id_number):
        return "must be 17 digits and a check digit or upper-case X"
    if check_character(id_number[:17]) != id_number[17]:
        return "has a wrong check digit"
    try:
        birth_date(id_number)
    except ValueError:
        return "holds no real birth date"
    return None


def birth_date(id_number: str) -> date:
    """The birth date written in positions 7-14 (``YYYYMMDD``); ValueError when it is not a date."""
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def age_on(id_number: str, day: date) -> int:
    """Full years of age on ``day``."""
    born = birth_date(id_number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def valid_mobile(mobile: str) -> bool:
    """11 digits starting with 1."""
    return isinstance(mobile, str) and _MOBILE.fullmatch(mobile) is not None


@dataclass(frozen=True)
class CreditRules:
    """The configured rule set (CREDIT_* and REVIEW_BLACKLIST)."""

    min_age: int
    max_age: int
    min_amount: int
    max_amount: int
    min_term: int
    max_term: int
    blacklist: frozenset
    review_blacklist: frozenset

    @classmethod
    def from_config(cls, config: dict) -> "CreditRules":
        return cls(config["CREDIT_MIN_AGE"], config["CREDIT_MAX_AGE"], config["CREDIT_MIN_AMOUNT"],
                   config["CREDIT_MAX_AMOUNT"], config["CREDIT_MIN_TERM"], config["CREDIT_MAX_TERM"],
                   frozenset(config["CREDIT_BLACKLIST"]), frozenset(config["REVIEW_BLACKLIST"]))

    def product_problem(self, amount: int, term: int) -> str | None:
        """Why a loan of ``amount`` fen over ``term`` months is outside the product, or None."""
        if not self.min_amount <= amount <= self.max_amount:
            return f"loanAmount must be between {self.min_amount} and {self.max_amount} fen"
        if not self.min_term <= term <= self.max_term:
            return f"loanTerm must be between {self.min_term} and {self.max_term} months"
        return None

    def credit_refusals(self, application: dict, today: date) -> list[str]:
        """Every rule ``application`` (``idNumber, mobile, loanAmount, loanTerm``) breaks; empty: approve."""
        reasons = []
        id_number = application.get("idNumber")
        problem = id_number_problem(id_number)
        if problem:
            reasons.append(f"idNumber {problem}")
        elif not self.min_age <= age_on(id_number, today) <= self.max_age:
            reasons.append(f"age outside {self.min_age}-{self.max_age}")
        if not valid_mobile(application.get("mobile")):
            reasons.append("mobile is not 11 digits starting with 1")
        amount, term = application.get("loanAmount"), application.get("loanTerm")
        if not isinstance(amount, int) or not isinstance(term, int):
            reasons.append("loanAmount and loanTerm must be integers")
        else:
            product = self.product_problem(amount, term)
            if product:
                reasons.append(product)
        if id_number in self.blacklist:
            reasons.append("idNumber is blacklisted")
        return reasons

    def review_refusals(self, application: dict, today: date) -> list[str]:
        """The risk review before disbursement: the credit rules again on the day of review, and the
        review blacklist."""
        reasons = self.credit_refusals(application, today)
        if application.get("idNumber") in self.review_blacklist:
            reasons.append("idNumber is refused by the risk review")
        return reasons


def decide_credit(rules: CreditRules, today: date, request: dict) -> dict:
    """The ``credit.decision`` for a ``credit.request``."""
    reasons = rules.credit_refusals(request, today)
    decision = {"orderNo": request.get("orderNo"), "approved": not reasons, "reasons": reasons}
    if not reasons:
        decision["approvedAmount"] = request["loanAmount"]
    return decision


def decide_review(rules: CreditRules, today: date, request: dict) -> dict:
    """The ``audit.decision`` for an ``audit.request``."""
    reasons = rules.review_refusals(request, today)
    return {"borrowNo": request.get("borrowNo"), "orderNo": request.get("orderNo"), "approved": not reasons,
            "reasons": reasons}
