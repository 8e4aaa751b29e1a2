"""What the ledger answers: each outcome of the database as an :class:`Answer` or a refusal.

The SQL functions decide (under the account's bucket); this module only names the answer, so the library,
a single posting over HTTP and the same posting inside a batch always answer alike.
"""
import json
from dataclasses import dataclass
from typing import Any

from shared.errors import AppError, BadRequest, Conflict, Locked, NotFound, Unprocessable

ADD, DEDUCT, REFUND = 1, 2, 3
CHANGE_TYPES = {"add": ADD, "deduct": DEDUCT, "refund": REFUND}

POSTED = 200   # a new record (a new account, package or release)
REPLAYED = 201  # the same trade number and amount again: the original record, nothing changed
SUCCESS_STATUS = {"posted": POSTED, "replay": REPLAYED}

EXPIRED_CODE = 906
RELEASED_CODE = 911

_REFUSALS = {
    "no_account": (NotFound, "account not found"),
    "no_package": (NotFound, "service package not found"),
    "no_deduct": (NotFound, "no deduct with this trade_no to refund"),
    "conflict": (Conflict, "trade_no already applied with a different amount"),
    "released": (Conflict, "trade_no was released: it is never deducted"),
    "locked": (Locked, "account is locked"),
    "insufficient": (Unprocessable, "insufficient balance"),
    "insufficient_capacity": (Unprocessable, "insufficient capacity"),
    "daily_limit": (Unprocessable, "daily capacity limit reached"),
    "balance_limit": (Unprocessable, "balance would exceed the ledger's limit"),
    "capacity_limit": (Unprocessable, "capacity would exceed the ledger's limit"),
    "refund_exceeds": (BadRequest, "refund amount exceeds the deducted amount"),
    "expired": (Unprocessable, "service package expired"),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """The ledger's answer: JSON text (built by PostgreSQL; the HTTP service sends it unchanged) and whether
    it is new (200) or was there before (201: a replayed posting, an existing account or package)."""

    body: str
    status: int = POSTED

    @property
    def new(self) -> bool:
        """False for a replay: the original record answered, nothing changed."""
        return self.status == POSTED

    def json(self) -> Any:
        """The answer as Python values (a record, an account, a page ``{count, data}``...)."""
        return json.loads(self.body)


def refusal(outcome: str, subject: str) -> AppError:
    """The error for a refused posting; ``subject`` names what was posted to (eid, trade_no)."""
    error_class, msg = _REFUSALS[outcome]
    error = error_class(f"{msg}: {subject}")
    if outcome == "expired":
        error.code = EXPIRED_CODE
    elif outcome == "released":
        error.code = RELEASED_CODE
    return error


def answer(outcome: str, body: str | None, subject: str) -> Answer:
    """The answer of a posting's outcome: 200 with a new record, 201 with the original record of a replay;
    raises the refusal otherwise (``subject`` names what was posted to)."""
    status = SUCCESS_STATUS.get(outcome)
    if status is None:
        raise refusal(outcome, subject)
    return Answer(body, status)
