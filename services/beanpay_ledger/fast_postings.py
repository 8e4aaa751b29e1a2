"""The hot path: GET and JSON POST of /account/balance/add, /deduct and /refund answered by WSGI
middleware in front of Flask.

It answers exactly as the documented Flask views do (they still serve form bodies, a declared charset
other than UTF-8, and anything else, HEAD included, which they refuse): the same service token check,
decoding of the query string and the JSON body (:mod:`shared.inputs`), parameter rules and messages
(:mod:`beanpay_ledger.validation`), posting (the group committer), bodies, statuses, headers and
``{code, msg}`` errors. It only skips Flask's request objects, routing, hooks and webargs, which cost more
than the posting itself.
"""
import json
import logging
import time
from http import HTTPStatus
from typing import Callable, Iterable

from flask import Flask
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from werkzeug.http import parse_options_header

from beanpay_ledger.outcomes import ADD, DEDUCT, REFUND
from beanpay_ledger.responses import posting_result
from beanpay_ledger.validation import load, posting_rules
from shared import inputs
from shared.auth import NO_SERVICE_TOKEN, token_accepted
from shared.errors import INTERNAL_ERROR_CODE, AppError, BadRequest, Unauthorized, Unavailable
from shared.logs import REQUEST_ID_HEADER, bind_request_id
from shared.metrics import observe_request
from shared.web import NO_STORE

log = logging.getLogger(__name__)

SERVICE = "beanpay-ledger"
PATHS = {"/account/balance/add": ADD, "/account/balance/deduct": DEDUCT, "/account/balance/refund": REFUND}
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


class PostingFastPath:
    """WSGI middleware: the posting endpoints' common requests here, everything else to ``app``'s WSGI app."""

    def __init__(self, app: Flask):
        self.flask_wsgi_app = app.wsgi_app
        self.postings = app.extensions["postings"]
        self.tokens = app.config["INTERNAL_TOKENS"]
        self.rules = posting_rules(app.config["LEDGER_MAX_AMOUNT"])
        self.names = [name for name, _ in self.rules]
        self.max_body = app.config["MAX_CONTENT_LENGTH"]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        change_type = PATHS.get(environ.get("PATH_INFO", ""))
        if change_type is None or not self._takes(environ):
            return self.flask_wsgi_app(environ, start_response)
        started = time.perf_counter()
        request_id = bind_request_id(inputs.request_id(environ.get("HTTP_X_REQUEST_ID")))
        try:
            status, body = self._post(change_type, environ)
        except AppError as error:
            status, body = error.status, _error_body(error.code, error.msg)
        except (OperationalError, PoolTimeout) as exc:
            log.warning("database unavailable: %s", exc)
            error = Unavailable("database unavailable, try again")
            status, body = error.status, _error_body(error.code, error.msg)
        except Exception:
            log.exception("unhandled error")
            status, body = 500, _error_body(INTERNAL_ERROR_CODE, "internal error")
        if status >= 400:
            log.info("%s %s -> %s", environ["REQUEST_METHOD"], environ["PATH_INFO"], status,
                     extra={"fields": {"ms": round((time.perf_counter() - started) * 1000, 2)}})
        observe_request(SERVICE, environ["REQUEST_METHOD"], environ["PATH_INFO"], status,
                        time.perf_counter() - started)
        data = body.encode()
        start_response(STATUS_LINES[status], [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(data))), (REQUEST_ID_HEADER, request_id),
                                              ("Cache-Control", NO_STORE)])
        return [data]

    def _takes(self, environ: dict) -> bool:
        """GET (query parameters) and POST with a JSON body of a known, allowed length; no charset but
        UTF-8 declared."""
        method = environ.get("REQUEST_METHOD")
        content_type = environ.get("CONTENT_TYPE", "")
        mimetype, _, params = content_type.partition(";")
        if "charset" in params.lower() and inputs.charset_refusal(parse_options_header(content_type)[1]):
            return False  # Flask refuses it
        if method == "GET":
            return True
        if method != "POST" or "HTTP_TRANSFER_ENCODING" in environ:
            return False
        mimetype = mimetype.strip().lower()
        if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
            return False
        length = environ.get("CONTENT_LENGTH") or "0"
        return length.isdigit() and int(length) <= self.max_body

    def _post(self, change_type: int, environ: dict) -> tuple[int, str]:
        # In Flask's order: the query string is decoded (and refused) before the token check, the body after.
        query = environ.get("QUERY_STRING", "")
        pairs = inputs.form_pairs(query.encode("latin-1")) if query else ()  # WSGI: the bytes as Latin-1
        self._authenticate(environ.get("HTTP_AUTHORIZATION", ""))
        if environ["REQUEST_METHOD"] == "GET":
            parameters = inputs.single_values(pairs, self.names)
        else:
            parameters = _json_body(environ)
        eid, trade_no, amount = load(parameters, self.rules)
        outcome, record = self.postings.post(change_type, eid, trade_no, amount)
        return posting_result(outcome, record, f"eid {eid}, trade_no {trade_no}")

    def _authenticate(self, header: str) -> None:
        if not token_accepted(header, self.tokens):
            raise Unauthorized(NO_SERVICE_TOKEN)


def _json_body(environ: dict) -> dict:
    """The JSON object of a POST body ({} when empty)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if not body:
        return {}
    parameters = inputs.loads_json(body)
    if not isinstance(parameters, dict):
        raise BadRequest("invalid input: _schema: Invalid input type.")
    return parameters


def _error_body(code: int, msg: str) -> str:
    """The ``{code, msg}`` error envelope, encoded as Flask's ``jsonify`` encodes it."""
    return json.dumps({"code": code, "msg": msg}, separators=(",", ":")) + "\n"
