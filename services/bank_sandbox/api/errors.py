"""The bank's JSON errors: ``{code, msg}``, and the bank's ``respCode`` for a refusal that has one."""
from flask import jsonify

from shared.errors import AppError

from bank_sandbox.gateway_requests import RequestExpired


def error_json(exc: AppError):
    """The JSON answer to ``exc`` with its status and headers; an expired request also says ``respCode``
    ``"20007"``, as the bank's results do."""
    body = {"code": exc.code, "msg": exc.msg}
    if isinstance(exc, RequestExpired):
        body["respCode"] = str(exc.code)
    response = jsonify(body)
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return response
