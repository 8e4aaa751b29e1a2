"""The bank's server API for the platform: the transaction services, a request's signed status, balances,
daily statements."""
import socket
import time

from flask import jsonify, request

from shared.web import Blueprint

from bank_sandbox import balances, request_status, statements, transaction_services
from bank_sandbox.api import schemas
from bank_sandbox.bootstrap import dependencies

bp = Blueprint("bank", __name__, url_prefix="", description="Transaction services, and queries for compensation and "
                                                             "reconciliation")


@bp.route("/service", methods=["POST"])
@bp.arguments(schemas.ServiceForm(), location="form")  # an instance: a class is instantiated at every call
@bp.response(200, schemas.SignedAnswer, description="the result the bank recorded for this requestNo (status 1 "
                                                    "success, 2 failure), also for a repeat of the same request")
@bp.alt_response(400, schema=schemas.ServiceRefusal,
                 description="signed {respData, signature}, recorded nowhere: 20007 expired, 00003 malformed; "
                             "unsigned {code, msg} when it is not the platform's request for serviceName "
                             "(platformNo, signature, field set)")
@bp.alt_response(409, schema=schemas.ServiceRefusal, description="signed 20008: the requestNo was used for another "
                 "transaction service's request; unsigned {code, msg}: it is a gateway request's")
@bp.alt_response(413, schema=schemas.ErrorReply, description="a body above MAX_CONTENT_LENGTH (64 KiB)")
@bp.alt_response(502, schema=schemas.ErrorReply, description="only with the fault knob serviceLoseAnswer: the "
                                                             "result was committed, its answer lost")
def service(form):
    """A transaction service (CREATE_PROJECT ... CONFIRM_REPAYMENT), answered at once and signed."""
    deps = dependencies()
    answer = transaction_services.serve(deps.pool, deps.config, deps.keys, form["serviceName"], form["platformNo"],
                                        form["reqData"], form["signature"])
    if answer.fault is not None:
        time.sleep(answer.fault.delay)  # committed already: the caller may give up before the answer comes
        if answer.fault.lose == "close":
            _close_connection()  # the 502 below then never reaches the caller
        if answer.fault.lose != "none":
            return _json({"code": 950, "msg": "the bank's answer was lost on the way"}, 502)
    return _json(answer.body, answer.status)


@bp.route("/service/query", methods=["GET"])
@bp.arguments(schemas.ServiceQuery, location="query")
@bp.response(200, schemas.SignedMessage)
@bp.alt_response(404, schema=schemas.SignedUnknown, description="the bank does not know the request (signed, 40004)")
def service_query(args):
    """The bank's signed view of one request (status 0 pending, 1 success, 2 failure)."""
    deps = dependencies()
    return _json(*request_status.signed_view(deps.pool, deps.config, deps.keys, args["platformNo"],
                                             args["requestNo"]))


@bp.route("/balance-details/<string:user_no>", methods=["GET"])
@bp.response(200, schemas.Balance)
@bp.alt_response(404, schema=schemas.ErrorReply, description="unknown bank user")
def balance_details(user_no):
    """A depository account's available and frozen balances (userNo = the platformNo: the platform's own)."""
    deps = dependencies()
    return balances.balance(deps.pool, deps.config, user_no)


@bp.route("/statements", methods=["GET"])
@bp.arguments(schemas.StatementQuery, location="query")
@bp.response(200, schemas.Statement)
def statement(args):
    """The day's money movements, one line per request, for reconciliation."""
    deps = dependencies()
    return statements.statement(deps.pool, deps.config, args["platformNo"], args["date"])


def _json(body: dict, status: int):
    """``body`` as it is (not filtered through a schema) with ``status``."""
    response = jsonify(body)
    response.status_code = status
    return response


def _close_connection() -> None:
    """Close the caller's connection (under gunicorn; elsewhere the caller gets the 502), as a network losing
    the answer would."""
    connection = request.environ.get("gunicorn.socket")
    if connection is not None:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # gone already
