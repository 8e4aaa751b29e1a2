"""The credit engine's rule set, from configuration: amount and term limits, age from the ID number,
and blacklists. It decides on a message's content alone, so a real engine can take its place on the
same queues (see :mod:`lending.engine`)."""
from dataclasses import dataclass
from datetime import date

from lending.identity import age_on, id_number_problem, valid_mobile


@dataclass(frozen=True)
class CreditRules:
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
