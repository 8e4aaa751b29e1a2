"""The signed-in user's own endpoints under ``/my/``; every query is filtered by the token's userNo."""
from flask import current_app
from flask.views import MethodView

from shared.web import Blueprint

from user_center import accounts, payments
from user_center.api.auth import BEARER, authenticate_user, current_user_no
from user_center.api.responses import ok
from user_center.api.schemas import (AmountIn, Balance, ErrorResponse, GatewayRequest, OpenAccountIn, Profile,
                                     RechargePage, RechargeRecord, RecordsQuery, WithdrawPage, WithdrawRecord, either,
                                     envelope, own_request_no)

bp = Blueprint("my", __name__, description="the signed-in user's profile, account, records and balance")
bp.before_request(authenticate_user)

GatewayResponse = envelope("GatewayResponse", GatewayRequest)
ERRORS = {401: "no or invalid access token", 409: "depository account state refuses it", 503: "try again later"}


def _documented_errors(view):
    """Bearer auth and the error answers every ``/my/`` endpoint can give, in the OpenAPI document."""
    for status, description in ERRORS.items():
        view = bp.alt_response(status, schema=ErrorResponse, description=description)(view)
    return bp.doc(security=BEARER)(view)


def _db():
    return current_app.extensions["db"]


def _gateway_request(service_name: str, args: dict) -> dict:
    """A RECHARGE or WITHDRAW GatewayRequest for the current user."""
    extensions = current_app.extensions
    if service_name == "RECHARGE":
        return payments.recharge(_db(), extensions["agent"], current_user_no(), args["amount"], args["callback_url"])
    return payments.withdraw(_db(), extensions["agent"], extensions["ledger"], extensions["holds"], current_user_no(),
                             args["amount"], current_app.config["WITHDRAW_COMMISSION_FEN"], args["callback_url"])


def _records_or_request(service_name: str, args: dict) -> dict:
    if "amount" in args:
        return ok(_gateway_request(service_name, args))
    return ok(payments.list_records(_db(), service_name, current_user_no(), args["page"], args["size"]))


@bp.route("/my/consumers")
class MyConsumer(MethodView):
    @_documented_errors
    @bp.response(200, envelope("ProfileResponse", Profile))
    def get(self):
        """The user's own profile; the bank card is masked."""
        return ok(accounts.profile(_db(), current_user_no()))

    @_documented_errors
    @bp.arguments(OpenAccountIn())
    @bp.response(200, GatewayResponse)
    def post(self, args):
        """Open the depository account: the PERSONAL_REGISTER GatewayRequest for the browser."""
        return ok(accounts.open_account(_db(), current_app.extensions["agent"], current_user_no(), args))


@bp.route("/my/recharge-records")
class RechargeRecords(MethodView):
    @_documented_errors
    @bp.arguments(RecordsQuery(), location="query")
    @bp.response(200, either("RechargeRecordsResponse", RechargePage, GatewayRequest))
    def get(self, args):
        """Own recharge records, newest first; with ``amount`` and ``callbackUrl``, a new RECHARGE request."""
        return _records_or_request("RECHARGE", args)

    @_documented_errors
    @bp.arguments(AmountIn())
    @bp.response(200, GatewayResponse)
    def post(self, args):
        """A RECHARGE GatewayRequest; the pending record is stored first."""
        return ok(_gateway_request("RECHARGE", args))


@bp.route("/my/withdraw-records")
class WithdrawRecords(MethodView):
    @_documented_errors
    @bp.arguments(RecordsQuery(), location="query")
    @bp.response(200, either("WithdrawRecordsResponse", WithdrawPage, GatewayRequest))
    @bp.alt_response(422, schema=ErrorResponse, description="insufficient balance")
    def get(self, args):
        """Own withdraw records, newest first; with ``amount`` and ``callbackUrl``, a new WITHDRAW request."""
        return _records_or_request("WITHDRAW", args)

    @_documented_errors
    @bp.arguments(AmountIn())
    @bp.response(200, GatewayResponse)
    @bp.alt_response(422, schema=ErrorResponse, description="insufficient balance")
    def post(self, args):
        """A WITHDRAW GatewayRequest; amount + commission is held in the ledger first."""
        return ok(_gateway_request("WITHDRAW", args))


def _add_own_record_view(kind: str, service_name: str, schema) -> None:
    """``GET /my/<kind>-records/<requestNo>``: one of the user's own records, which the result page polls."""

    def view(request_no):
        return ok(payments.find_record(_db(), service_name, current_user_no(), own_request_no(request_no)))

    view.__doc__ = f"One of the user's own {kind} records, by requestNo (what the result page shows)."
    view = bp.alt_response(404, schema=ErrorResponse, description=f"no such {kind} among the user's own")(view)
    view = bp.response(200, envelope(f"{kind.capitalize()}RecordResponse", schema))(view)
    bp.get(f"/my/{kind}-records/<request_no>", endpoint=f"{kind}_record")(_documented_errors(view))


_add_own_record_view("recharge", "RECHARGE", RechargeRecord)
_add_own_record_view("withdraw", "WITHDRAW", WithdrawRecord)


@bp.get("/my/balances")
@_documented_errors
@bp.response(200, envelope("BalanceResponse", Balance))
def balances():
    """The wallet balance from the ledger (``"0.00"`` before the account is opened)."""
    return ok(payments.balance(_db(), current_app.extensions["ledger"], current_user_no()))
