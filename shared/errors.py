"""Application errors and the one table that maps them to HTTP status and error code.

Handlers raise these; the web layer turns them into the service's error envelope.
"""


class AppError(Exception):
    """An error with a reason meant for the caller, and any headers its answer carries."""

    status = 400
    code = 903

    def __init__(self, msg: str, code: int | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(msg)
        self.msg = msg
        self.headers = headers or {}
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadRequest(AppError):
    status, code = 400, 903


class Unauthorized(AppError):
    status, code = 401, 901


class Forbidden(AppError):
    status, code = 403, 902


class NotFound(AppError):
    status, code = 404, 908


class RecordNotFound(NotFound):
    """A service's own answer that it has no record of what was asked (404, code 918). Unlike a plain 404
    (code 908, or none: a wrong path, a proxy, an older version), a caller may take it as "never received"."""

    code = 918


class Conflict(AppError):
    status, code = 409, 909


class PayloadTooLarge(AppError):
    status, code = 413, 913


class Unprocessable(AppError):
    """A well-formed request the current state refuses, such as an insufficient balance."""

    status, code = 422, 904


class Locked(AppError):
    status, code = 423, 907


class TooManyRequests(AppError):
    """429; ``retry_after`` seconds, when given, is answered as Retry-After."""

    status, code = 429, 929

    def __init__(self, msg: str, retry_after: int | None = None):
        super().__init__(msg, headers=None if retry_after is None else {"Retry-After": str(retry_after)})


class Unavailable(AppError):
    """A dependency (database, broker, another service) cannot be reached now."""

    status, code = 503, 950


# Codes for HTTP errors raised by Flask/werkzeug itself (unknown route, wrong method, ...).
HTTP_STATUS_CODES = {400: 903, 401: 901, 403: 902, 404: 908, 405: 905, 409: 909, 413: 913, 415: 915, 422: 903, 429: 929}
INTERNAL_ERROR_CODE = 999
