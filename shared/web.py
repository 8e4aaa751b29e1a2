"""The common web shell of every service: app factory base, error envelope, health, OpenAPI.

A service calls :func:`create_base_app`, registers its blueprints on ``app.extensions['api']``
and adds readiness checks with :func:`add_ready_check`.

Every request is decoded by :mod:`shared.inputs` (strict UTF-8, no lone surrogates or NUL, one value per
single-valued name, bounded JSON) before a handler sees it: the path, the query string and a declared
charset up front, form and JSON bodies when read. What fails is a 400 naming the reason.
"""
import logging
import time
from types import SimpleNamespace
from typing import Callable

import flask_smorest
import marshmallow as ma
from flask import Flask, g, jsonify, request
from flask.wrappers import Request
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.core import missing
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_content_length, get_input_stream

from shared import inputs
from shared.errors import HTTP_STATUS_CODES, INTERNAL_ERROR_CODE, AppError, BadRequest
from shared.logs import REQUEST_ID_HEADER, bind_request_id, configure_logging
from shared.metrics import install_metrics

log = logging.getLogger(__name__)

NO_STORE = "no-store"  # answers carry balances, records and tokens: no cache may keep them


class _FormParser(FormDataParser):
    """Form bodies decoded as query strings are (:func:`shared.inputs.form_pairs`); multipart refused."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        # The stream is already limited to MAX_CONTENT_LENGTH (werkzeug's own parser reads it whole too).
        return stream, self.cls(inputs.form_pairs(stream.read())), self.cls()

    def _parse_multipart(self, stream, mimetype, content_length, options):
        raise BadRequest(inputs.MULTIPART)


class _BoundedStream(LimitedStream):
    """A body without Content-Length (chunked) limited to MAX_CONTENT_LENGTH: one byte more is a 413.

    werkzeug's own limit stops reading there and hands on what it has read, so an overlong form body
    would be cut into a shorter, different request (``amount=1000`` read as ``amount=1``).
    """

    def __init__(self, stream, limit: int):
        super().__init__(stream, limit, is_max=True)

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class StrictRequest(Request):
    """Flask's request with the query string, form and JSON bodies decoded by :mod:`shared.inputs`, and an
    overlong chunked body refused rather than cut."""

    form_data_parser_class = _FormParser
    json_module = SimpleNamespace(loads=inputs.loads_json)

    @cached_property
    def args(self) -> ImmutableMultiDict:
        return ImmutableMultiDict(inputs.form_pairs(self.query_string))

    @cached_property
    def stream(self):
        environ, limit = self.environ, self.max_content_length
        if limit is not None and "wsgi.input_terminated" in environ and get_content_length(environ) is None:
            return _BoundedStream(environ["wsgi.input"], limit)
        return get_input_stream(environ, max_content_length=limit)


class _SingleValues(MultiDictProxy):
    """webargs' view of a query or form: a single-valued field given twice is refused, not first-wins."""

    def __getitem__(self, key: str):
        if key not in self.multiple_keys and len(self.data.getlist(key)) > 1:
            raise BadRequest(inputs.repeated(key))
        return super().__getitem__(key)


class _Parser(FlaskParser):
    """Validation errors are the caller's bad input: 400, not webargs' default 422. JSON bodies go through
    :func:`shared.inputs.loads_json`; repeated single-valued parameters are refused."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        data = req.get_data(cache=True)
        if not data or not is_json_request(req):  # no body: other locations may hold the arguments
            return missing
        return inputs.loads_json(data)

    def _makeproxy(self, multidict, schema, *, cls=_SingleValues):
        return super()._makeproxy(multidict, schema, cls=cls)


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose argument validation answers 400."""

    ARGUMENTS_PARSER = _Parser()


class ErrorSchema(ma.Schema):
    """The plain error body: ``{code, msg}``."""

    code = ma.fields.Integer(required=True)
    msg = ma.fields.String(required=True)


class RestErrorSchema(ErrorSchema):
    """The RestResponse error body: ``{code, msg, result: null}``."""

    result = ma.fields.Raw(allow_none=True)


class _PlainApi(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema


class _RestApi(flask_smorest.Api):
    ERROR_SCHEMA = RestErrorSchema


def create_base_app(name: str, config: dict, title: str, envelope: str = "plain") -> Flask:
    """A Flask app with JSON logging, request ids, error envelope, /healthz, /readyz, /metrics and /docs.

    ``envelope`` is ``"plain"`` (``{code, msg}``) or ``"rest"`` (``{code, msg, result}``).
    """
    configure_logging(name, config.get("LOG_LEVEL", "INFO"))
    app = Flask(name)
    app.request_class = StrictRequest
    app.config.update(config)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        ERROR_ENVELOPE=envelope,
    )
    app.json.sort_keys = False
    api = (_RestApi if envelope == "rest" else _PlainApi)(app)
    app.extensions["api"] = api
    app.extensions["ready_checks"] = []
    _register_request_hooks(app)
    _register_error_handlers(app)
    _register_health(app)
    install_metrics(app, name)
    return app


def add_ready_check(app: Flask, name: str, check: Callable[[], None]) -> None:
    """Make /readyz depend on ``check`` (which raises when its dependency is unreachable)."""
    app.extensions["ready_checks"].append((name, check))


def error_envelope(code: int, msg: str, envelope: str | None = "plain") -> dict:
    """An error's body in a service's envelope: ``{code, msg}``, or ``{code, msg, result: null}`` for ``"rest"``."""
    body = {"code": code, "msg": msg}
    if envelope == "rest":
        body["result"] = None
    return body


def error_response(status: int, code: int, msg: str):
    """A JSON error in the app's envelope."""
    from flask import current_app

    return jsonify(error_envelope(code, msg, current_app.config.get("ERROR_ENVELOPE"))), status


def request_data() -> dict:
    """The request's parameters: query string, then form or JSON body (body wins); a name given twice in
    the query or in the form is refused.

    Used by endpoints that accept both the GET query form and a POST body.
    """
    data = inputs.single_values(request.args.items(multi=True))
    if request.form:
        data.update(inputs.single_values(request.form.items(multi=True)))
    elif request.get_data(cache=True):
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object or a form")
        data.update(body)
    return data


class FullMatch(ma.validate.Regexp):
    """A pattern the whole value must match (``$`` alone would let a trailing newline through)."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


def refuse_head() -> None:
    """A ``before_request`` hook for blueprints whose GET endpoints change state: HEAD (which Flask adds
    to every GET route) is answered 405 instead of running the GET."""
    if request.method == "HEAD":
        raise MethodNotAllowed(valid_methods=sorted(request.url_rule.methods - {"HEAD", "OPTIONS"}))


def check_request_text() -> None:
    """Refuse (400) a path that is not UTF-8 or holds NUL, a body charset other than UTF-8 and a query
    string that :func:`shared.inputs.form_pairs` refuses, whatever the endpoint goes on to read."""
    path = request.environ.get("PATH_INFO", "")
    if not path.isascii():
        try:
            path.encode("latin-1").decode("utf-8")  # WSGI carries the path's bytes as Latin-1
        except UnicodeError:
            raise BadRequest("invalid input: the path is not valid UTF-8") from None
    if "\x00" in path:
        raise BadRequest("invalid input: the path may not contain NUL")
    refusal = inputs.charset_refusal(request.mimetype_params)
    if refusal:
        raise BadRequest(refusal)
    request.args  # noqa: B018 (decoding it refuses a bad query string now)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _bind():
        g.request_id = bind_request_id(inputs.request_id(request.headers.get(REQUEST_ID_HEADER)))
        g.started = time.perf_counter()
        check_request_text()

    @app.after_request
    def _echo(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if response.is_json and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = NO_STORE
        if response.status_code >= 400:
            log.info(
                "%s %s -> %s",
                request.method,
                request.path,
                response.status_code,
                extra={"fields": {"ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 2)}},
            )
        return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        response, status = error_response(exc.status, exc.code, exc.msg)
        response.headers.update(exc.headers)
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        msg = exc.description or exc.name
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if messages:
            msg = "invalid input: " + _flatten(messages)
        response, status = error_response(status, HTTP_STATUS_CODES.get(status, INTERNAL_ERROR_CODE), msg)
        for name, value in exc.get_headers():  # e.g. Allow on a 405, Retry-After
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _db_down(exc):
        log.warning("database unavailable: %s", exc)
        return error_response(503, 950, "database unavailable, try again")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, INTERNAL_ERROR_CODE, "internal error")


def _flatten(messages) -> str:
    """webargs' nested ``{location: {field: [msg, ...]}}`` as ``field: msg; ...``."""
    return "; ".join(part for location_messages in (messages.values() if isinstance(messages, dict) else [messages])
                     for part in _message_parts(location_messages))


def invalid_input(messages) -> str:
    """The refusal of input a marshmallow schema refused, from its ``{field: [msg, ...]}`` messages:
    ``invalid input: field: msg; ...`` (as the shell answers webargs' refusals)."""
    return "invalid input: " + "; ".join(_message_parts(messages))


def _message_parts(messages) -> list[str]:
    """``field.subfield: msg, msg`` for each field of nested marshmallow messages, in order."""
    parts = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [str(key)])
        else:
            text = ", ".join(map(str, node)) if isinstance(node, list) else str(node)
            parts.append(f"{'.'.join(path)}: {text}" if path else text)

    walk(messages, [])
    return parts


def _register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        failures = {}
        for name, check in app.extensions["ready_checks"]:
            try:
                check()
            except Exception as exc:  # any failure means not ready; which one is answered, the details logged
                log.warning("not ready: %s: %s", name, exc)
                failures[name] = "unavailable"
        if failures:
            return jsonify(status="unavailable", failures=failures), 503
        return jsonify(status="ok")
