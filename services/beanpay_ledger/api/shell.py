"""The ledger API's shell: every endpoint of the API is answered here, in front of Flask, in one way.

An endpoint is a handler registered with its path in an api module (``@routes.endpoint("/account/create",
...)``), with its parameter and answer schemas (api/schemas.py). It answers GET with query parameters and POST
with a JSON or form body (beanpay's curl examples post with GET), the batch POST with JSON only. For every
request the shell, in this order (the order of shared/web.py's Flask shell, whose answers it keeps):

- binds the request id (echoed in ``X-Request-Id``);
- refuses a ``charset`` other than UTF-8 and a query string that is not valid text (:mod:`shared.inputs`);
- answers a method the endpoint does not take with 405 and ``Allow``: HEAD too, since a GET here may post,
  and a HEAD run as that GET would post without telling;
- checks the service token (401/901); answers OPTIONS;
- reads the parameters (:mod:`shared.inputs`: one value per name, strict UTF-8 and JSON, a body over
  ``MAX_CONTENT_LENGTH`` 413) and parses them with the endpoint's schema (400/903 naming each problem);
- calls the handler with the process's :class:`~beanpay_ledger.bootstrap.Dependencies`, and answers its JSON
  (built by PostgreSQL, sent unchanged) or the ``{code, msg}`` envelope of the error it raises (503/950 when
  the database is unreachable, 500/999 for anything unexpected, logged);
- logs refusals and counts and times every answer in the service's metrics (:mod:`shared.metrics`).

The OpenAPI document (``/openapi.json``) is written from the same registrations. Flask serves the rest
(/healthz, /readyz, /metrics, /openapi.json, /docs, unknown paths). Flask's request machinery and webargs
cost more CPU than the posting they would carry (docs/performance.md), hence this shell.
"""
import json
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from apispec import APISpec
from flask import Flask
from marshmallow import Schema, ValidationError
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.routing import Rule
from werkzeug.wsgi import get_content_length

from beanpay_ledger.api.schemas import ErrorBodySchema
from beanpay_ledger.outcomes import Answer
from shared import inputs
from shared.auth import NO_SERVICE_TOKEN, token_accepted
from shared.errors import HTTP_STATUS_CODES, INTERNAL_ERROR_CODE, AppError, BadRequest, PayloadTooLarge, \
    Unauthorized, Unavailable
from shared.logs import REQUEST_ID_HEADER, bind_request_id
from shared.metrics import observe_request
from shared.web import NO_STORE, error_envelope, invalid_input

if TYPE_CHECKING:
    from beanpay_ledger.bootstrap import Dependencies

log = logging.getLogger(__name__)

SERVICE = "beanpay-ledger"
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
AUTH_AND_INPUT_ERRORS = (400, 401)
# werkzeug's words, as the Flask shell answers them
NOT_ALLOWED = MethodNotAllowed.description
TOO_LARGE = RequestEntityTooLarge.description
UNAVAILABLE = "database unavailable, try again"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

Handler = Callable[["Dependencies", dict], Answer]


@dataclass(frozen=True)
class Route:
    """One endpoint: ``handler(deps, args)`` at ``path``."""

    path: str
    handler: Handler
    args: type[Schema]
    answer: type[Schema]
    successes: tuple[int, ...]
    errors: tuple[int, ...]
    query: bool  # GET with query parameters and POST with a JSON or form body; else POST with JSON only

    @property
    def allowed(self) -> str:
        """The ``Allow`` header of a 405 (as Flask answers it: its automatic HEAD and OPTIONS included)."""
        return "HEAD, GET, OPTIONS, POST" if self.query else "OPTIONS, POST"


class Routes:
    """The endpoints of one api module, documented under the tag ``name``."""

    def __init__(self, name: str, description: str):
        self.name = name
        self.description = description
        self.routes: list[Route] = []

    def endpoint(self, path: str, args: type[Schema], answer: type[Schema], successes=(200,), errors=()) -> Callable:
        """Register ``handler(deps, args) -> Answer`` at ``path`` for GET (query) and POST (JSON or form body)."""
        return self._register(path, args, answer, successes, errors, query=True)

    def post(self, path: str, args: type[Schema], answer: type[Schema], successes=(200,), errors=()) -> Callable:
        """Register ``handler(deps, args) -> Answer`` at ``path`` for POST with a JSON body."""
        return self._register(path, args, answer, successes, errors, query=False)

    def _register(self, path, args, answer, successes, errors, query: bool) -> Callable:
        def decorator(handler: Handler) -> Handler:
            self.routes.append(Route(path, handler, args, answer, tuple(successes), tuple(errors), query))
            return handler

        return decorator


class LedgerApi:
    """WSGI: the routes of ``groups`` answered here, any other path by ``app`` (Flask), whose OpenAPI document
    gets the routes too."""

    def __init__(self, app: Flask, deps: "Dependencies", groups: Iterable[Routes]):
        self.flask_wsgi_app = app.wsgi_app
        self.deps = deps
        self.tokens = deps.config["INTERNAL_TOKENS"]
        self.max_body = deps.config["MAX_CONTENT_LENGTH"]
        groups = list(groups)
        self.routes: dict[str, tuple[Route, Schema]] = {}
        for group in groups:
            for route in group.routes:
                self.routes[route.path] = (route, route.args(max_amount=deps.config["LEDGER_MAX_AMOUNT"]))
        document(app.extensions["api"].spec, groups)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        found = self.routes.get(path)
        if found is None:
            return self.flask_wsgi_app(environ, start_response)
        route, schema = found
        started = time.perf_counter()
        request_id = bind_request_id(inputs.request_id(environ.get("HTTP_X_REQUEST_ID")))
        method = environ.get("REQUEST_METHOD", "")
        content_type, headers = "application/json", [("Cache-Control", NO_STORE)]
        try:
            status, body = self._answer(route, schema, method, environ)
            if status == 200 and method == "OPTIONS":
                content_type, headers = "text/html; charset=utf-8", [("Allow", route.allowed)]
        except AppError as error:
            status, body = error.status, error_body(error.code, error.msg)
            headers += list(error.headers.items())
        except (OperationalError, PoolTimeout) as exc:
            log.warning("database unavailable: %s", exc)
            status, body = 503, error_body(Unavailable.code, UNAVAILABLE)
        except Exception:
            log.exception("unhandled error")
            status, body = 500, error_body(INTERNAL_ERROR_CODE, "internal error")
        elapsed = time.perf_counter() - started
        if status >= 400:
            log.info("%s %s -> %s", method, path, status, extra={"fields": {"ms": round(elapsed * 1000, 2)}})
        # a method the route does not have is not the route's (as Flask counts it)
        takes = method in ("GET", "HEAD", "POST", "OPTIONS") if route.query else method in ("POST", "OPTIONS")
        observe_request(SERVICE, method, path if takes else "unmatched", status, elapsed)
        data = body.encode()
        start_response(STATUS_LINES[status], [("Content-Type", content_type), ("Content-Length", str(len(data))),
                                              (REQUEST_ID_HEADER, request_id), *headers])
        return [] if method == "HEAD" else [data]

    def _answer(self, route: Route, schema: Schema, method: str, environ: dict) -> tuple[int, str]:
        content_type = environ.get("CONTENT_TYPE", "")
        mimetype, options = parse_options_header(content_type)
        refusal = inputs.charset_refusal(options)
        if refusal:
            raise BadRequest(refusal)
        query = environ.get("QUERY_STRING", "")
        pairs = inputs.form_pairs(query.encode("latin-1")) if query else []  # WSGI: the bytes as Latin-1
        if method == "HEAD" and route.query:
            raise AppError(NOT_ALLOWED, code=HTTP_STATUS_CODES[405], status=405, headers={"Allow": "GET, POST"})
        if method not in (("GET", "POST", "OPTIONS") if route.query else ("POST", "OPTIONS")):
            raise AppError(NOT_ALLOWED, code=HTTP_STATUS_CODES[405], status=405, headers={"Allow": route.allowed})
        if not token_accepted(environ.get("HTTP_AUTHORIZATION", ""), self.tokens):
            raise Unauthorized(NO_SERVICE_TOKEN)
        if method == "OPTIONS":
            return 200, ""
        if method == "GET":
            params = inputs.single_values(pairs, schema.fields)
        else:
            params = self._body_params(environ, mimetype.lower(), schema, form=route.query)
        try:
            args = schema.load(params)
        except ValidationError as exc:
            raise BadRequest(invalid_input(exc.messages)) from None
        answer = route.handler(self.deps, args)
        return answer.status, answer.body

    def _body_params(self, environ: dict, mimetype: str, schema: Schema, form: bool):
        """A POST's parameters: a JSON body's value, or (``form``) a form's fields, one value per name."""
        body = self._body(environ)
        if body and (mimetype == "application/json" or (mimetype.startswith("application/")
                                                        and mimetype.endswith("+json"))):
            return inputs.loads_json(body)
        if not form:
            return {}
        if mimetype == MULTIPART:
            raise BadRequest(inputs.MULTIPART)
        return inputs.single_values(inputs.form_pairs(body) if mimetype == FORM else (), schema.fields)

    def _body(self, environ: dict) -> bytes:
        """The request body: at most ``MAX_CONTENT_LENGTH`` bytes, chunked or not (413 beyond, never cut)."""
        length = get_content_length(environ)
        if length is not None and length > self.max_body:
            raise PayloadTooLarge(TOO_LARGE)
        stream = environ["wsgi.input"]
        if length is not None:
            return stream.read(length) if length else b""
        if "wsgi.input_terminated" not in environ:
            return b""  # no length and not chunked: no body
        data = stream.read(self.max_body)
        if len(data) == self.max_body and stream.read(1):
            raise PayloadTooLarge(TOO_LARGE)
        return data


def error_body(code: int, msg: str) -> str:
    """The service's error envelope (``{code, msg}``), encoded as the Flask shell encodes JSON."""
    return json.dumps(error_envelope(code, msg), separators=(",", ":")) + "\n"


def document(spec: APISpec, groups: Iterable[Routes]) -> None:
    """Add each route to the OpenAPI document: GET with its schema as query parameters and POST with it as the
    JSON body, the answers of ``successes`` and the ``{code, msg}`` errors."""
    for group in groups:
        spec.tag({"name": group.name, "description": group.description})
        for route in group.routes:
            summary, _, description = (route.handler.__doc__ or "").strip().partition("\n\n")
            responses = {str(status): _response(status, route.answer) for status in route.successes}
            responses.update({str(status): _response(status, ErrorBodySchema)
                              for status in (*AUTH_AND_INPUT_ERRORS, *route.errors)})
            responses["default"] = "DEFAULT_ERROR"  # flask-smorest's error response, by name: the document gets it
            common = {"summary": " ".join(summary.split()), "tags": [group.name], "responses": responses,
                      **({"description": description.strip()} if description else {})}
            operations = {"post": {**common, "requestBody": {
                "required": True, "content": {"application/json": {"schema": route.args}}}}}
            if route.query:
                operations["get"] = {**common, "parameters": [{"in": "query", "schema": route.args}]}
            spec.path(rule=Rule(route.path), operations=operations)  # as flask-smorest adds its routes


def _response(status: int, schema: type[Schema]) -> Mapping:
    return {"description": HTTPStatus(status).phrase, "content": {"application/json": {"schema": schema}}}
