"""The common web shell of every service: app factory base, error envelope, health, OpenAPI.

A service calls :func:`create_base_app`, registers its blueprints on ``app.extensions['api']``
and adds readiness checks with :func:`add_ready_check`.
"""
import logging
import time
from typing import Callable

import flask_smorest
import marshmallow as ma
from flask import Flask, g, jsonify, request
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from shared.errors import HTTP_STATUS_CODES, INTERNAL_ERROR_CODE, AppError, BadRequest
from shared.logs import REQUEST_ID_HEADER, bind_request_id, configure_logging
from shared.metrics import install_metrics

log = logging.getLogger(__name__)


class _Parser(FlaskParser):
    """Validation errors are the caller's bad input: 400, not webargs' default 422."""

    DEFAULT_VALIDATION_STATUS = 400


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
    _register_request_id(app)
    _register_error_handlers(app)
    _register_health(app)
    install_metrics(app, name)
    return app


def add_ready_check(app: Flask, name: str, check: Callable[[], None]) -> None:
    """Make /readyz depend on ``check`` (which raises when its dependency is unreachable)."""
    app.extensions["ready_checks"].append((name, check))


def error_response(status: int, code: int, msg: str):
    """A JSON error in the app's envelope."""
    from flask import current_app

    body = {"code": code, "msg": msg}
    if current_app.config.get("ERROR_ENVELOPE") == "rest":
        body["result"] = None
    return jsonify(body), status


def request_data() -> dict:
    """The request's parameters: query string, then form or JSON body (body wins).

    Used by endpoints that accept both the GET query form and a POST body.
    """
    data = request.args.to_dict()
    if request.form:
        data.update(request.form.to_dict())
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


def _register_request_id(app: Flask) -> None:
    @app.before_request
    def _bind():
        g.request_id = bind_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.started = time.perf_counter()

    @app.after_request
    def _echo(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
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
    parts = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [str(key)])
        else:
            text = ", ".join(map(str, node)) if isinstance(node, list) else str(node)
            parts.append(f"{'.'.join(path)}: {text}" if path else text)

    for location_messages in messages.values() if isinstance(messages, dict) else [messages]:
        walk(location_messages, [])
    return "; ".join(parts)


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
            except Exception as exc:  # any failure means not ready; the reason is reported
                failures[name] = str(exc)[:200]
        if failures:
            return jsonify(status="unavailable", failures=failures), 503
        return jsonify(status="ok")
