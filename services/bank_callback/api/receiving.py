"""Receiving a callback: its fields as the bank sent them, read one way for every path, then verified.

The query string and an ``application/x-www-form-urlencoded`` body are decoded by the platform's one
form rule (:func:`shared.inputs.form_pairs`: ``+`` a space, percent-escapes as strict UTF-8 bytes, no
NUL). On top of it, a callback refuses what could be read two ways rather than guess: a name given twice
(in one part or across query and body), a nameless parameter, another body type, too many parameters.
So a GET and a POST, a query and a form, carry exactly the fields the bank signed or none.
"""
from typing import Callable

from flask import Request, Response, request

from shared.errors import AppError, BadRequest
from shared.inputs import form_pairs, single_values

from bank_callback import anomalies
from bank_callback.bootstrap import dependencies
from bank_callback.huifu import Command, signed_values

FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 100


class UnsupportedMediaType(AppError):
    status, code = 415, 915


def callback_fields(received: Request) -> dict[str, str]:
    """The fields of ``received``'s query string and form body, each name at most once.

    The body's charset is refused by the web shell before this runs (anything but UTF-8 is a 400).
    """
    pairs = form_pairs(received.query_string)
    body = received.get_data(cache=True)
    if body:
        if received.mimetype != FORM:
            raise UnsupportedMediaType(f"the body must be {FORM}, not {received.mimetype or 'untyped'}")
        pairs += form_pairs(body)
    if len(pairs) > MAX_FIELDS:
        raise BadRequest(f"more than {MAX_FIELDS} parameters")
    if any(not name for name, _ in pairs):
        raise BadRequest("a parameter without a name")
    return single_values(pairs)


def receive(command: Command, handle: Callable[[dict], Response]) -> Response:
    """Read the request as a ``command`` callback, verify it (:class:`bank_callback.huifu.Verifier`), then
    answer ``handle(fields)``; an anomaly met on the way is recorded (:mod:`bank_callback.anomalies`)."""
    fields = callback_fields(request)
    deps = dependencies()
    with anomalies.recorded(deps.pool, command.name, signed_values(command, fields), fields):
        return handle(deps.verifier.verify(command, fields))
