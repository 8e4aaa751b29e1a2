"""What each posting outcome of the database means for the caller: HTTP status, code, message.

The SQL functions decide (under the row lock); this table only names the answer, so a single
posting and the same posting inside a batch always answer alike.
"""
from shared.errors import AppError, BadRequest, Conflict, Locked, NotFound, Unprocessable

ADD, DEDUCT, REFUND = 1, 2, 3
CHANGE_TYPES = {"add": ADD, "deduct": DEDUCT, "refund": REFUND}

POSTED = 200   # a new record
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


def refusal(outcome: str, subject: str) -> AppError:
    """The error for a refused posting; ``subject`` names what was posted to (eid, trade_no)."""
    error_class, msg = _REFUSALS[outcome]
    error = error_class(f"{msg}: {subject}")
    if outcome == "expired":
        error.code = EXPIRED_CODE
    elif outcome == "released":
        error.code = RELEASED_CODE
    return error
