"""Responses whose JSON body PostgreSQL already built: sent as they are, never re-encoded."""
from flask import Response

from beanpay_ledger.outcomes import SUCCESS_STATUS, refusal


def json_response(body: str, status: int = 200) -> Response:
    """A JSON response from ready JSON text."""
    return Response(body, status=status, mimetype="application/json")


def posting_result(outcome: str, record: str | None, subject: str) -> tuple[int, str]:
    """``(status, record JSON text)``: 200 with a new record, 201 with the original record of a replay;
    raises the refusal otherwise (``subject`` names what was posted to)."""
    status = SUCCESS_STATUS.get(outcome)
    if status is None:
        raise refusal(outcome, subject)
    return status, record


def posting_response(outcome: str, record: str | None, subject: str) -> Response:
    """:func:`posting_result` as a Flask response."""
    status, body = posting_result(outcome, record, subject)
    return json_response(body, status)
