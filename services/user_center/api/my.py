"""The signed-in user's own endpoints under ``/my/``; every query is filtered by the token's userNo."""
from flask.views import MethodView

from shared.contract import RECHARGE, WITHDRAW
from shared.web import Blueprint, refuse_head

from user_center import accounts, loans, payments
from user_center.api.auth import BEARER, authenticate_user, current_user_no
from user_center.api.responses import ok
from user_center.api.schemas import (AmountIn, Balance, ErrorResponse, GatewayRequest, MyLoans, OpenAccountIn,
                                     Profile, RechargePage, RechargeRecord, RecordsQuery, WithdrawPage, WithdrawRecord,
                                     either, envelope, own_request_no)
from user_center.bootstrap import dependencies

bp = Blueprint("my", __name__, description="the signed-in user's profile, account, records, balance and loans")
# HEAD would run a GET's handler: the GET forms of /my/recharge-records and /my/withdraw-records make requests
bp.before_request(refuse_head)
bp.before_request(authenticate_user)

GatewayResponse = envelope("GatewayResponse", GatewayRequest)
ERRORS = {401: "no or invalid access token", 409: "depository account state refuses it", 503: "try again later"}


def _documented_errors(view):
    """Bearer auth and the error answers every ``/my/`` endpoint can give, in the OpenAPI document."""
    for status, description in ERRORS.items():
        view = bp.alt_response(status, schema=ErrorResponse, description=description)(view)
    return bp.doc(security=BEARER)(view)


def _gateway_request(service_name: str, args: dict) -> dict:
    """A RECHARGE or WITHDRAW GatewayRequest for the current user."""
    deps = dependencies()
    if service_name == RECHARGE:
        return payments.recharge(deps.pool, deps.agent, current_user_no(), args["amount"], args["callback_url"])
    return payments.withdraw(deps.pool, deps.agent, deps.ledger, deps.holds, current_user_no(), args["amount"],
                             deps.config["WITHDRAW_COMMISSION_FEN"], args["callback_url"])


def _records_or_request(service_name: str, args: dict) -> dict:
    """The dual GET: with ``amount`` (and ``callbackUrl``) the original API's GET form of a new request,
    without it the user's own records."""
    if "amount" in args:
        return ok(_gateway_request(service_name, args))
    return ok(payments.list_records(dependencies().pool, service_name, current_user_no(), args["page"], args["size"]))


@bp.route("/my/consumers")
class MyConsumer(MethodView):
    @_documented_errors
    @bp.response(200, envelope("ProfileResponse", Profile))
    def get(self):
        """The user's own profile; the bank card is masked."""
        return ok(accounts.profile(dependencies().pool, current_user_no()))

    @_documented_errors
    @bp.arguments(OpenAccountIn())
    @bp.response(200, GatewayResponse)
    def post(self, args):
        """Open the depository account: the PERSONAL_REGISTER GatewayRequest for the browser."""
        deps = dependencies()
        return ok(accounts.open_account(deps.pool, deps.agent, current_user_no(), args))


@bp.route("/my/recharge-records")
class RechargeRecords(MethodView):
    @_documented_errors
    @bp.arguments(RecordsQuery(), location="query")
    @bp.response(200, either("RechargeRecordsResponse", RechargePage, GatewayRequest))
    def get(self, args):
        """Own recharge records, newest first; with ``amount`` and ``callbackUrl``, a new RECHARGE request."""
        return _records_or_request(RECHARGE, args)

    @_documented_errors
    @bp.arguments(AmountIn())
    @bp.response(200, GatewayResponse)
    def post(self, args):
        """A RECHARGE GatewayRequest; the pending record is stored first."""
        return ok(_gateway_request(RECHARGE, args))


@bp.route("/my/withdraw-records")
class WithdrawRecords(MethodView):
    @_documented_errors
    @bp.arguments(RecordsQuery(), location="query")
    @bp.response(200, either("WithdrawRecordsResponse", WithdrawPage, GatewayRequest))
    @bp.alt_response(422, schema=ErrorResponse, description="insufficient balance")
    def get(self, args):
        """Own withdraw records, newest first; with ``amount`` and ``callbackUrl``, a new WITHDRAW request."""
        return _records_or_request(WITHDRAW, args)

    @_documented_errors
    @bp.arguments(AmountIn())
    @bp.response(200, GatewayResponse)
    @bp.alt_response(422, schema=ErrorResponse, description="insufficient balance")
    def post(self, args):
        """A WITHDRAW GatewayRequest; amount + commission is held in the ledger first."""
        return ok(_gateway_request(WITHDRAW, args))


@bp.get("/my/recharge-records/<request_no>")
@_documented_errors
@bp.response(200, envelope("RechargeRecordResponse", RechargeRecord))
@bp.alt_response(404, schema=ErrorResponse, description="no such recharge among the user's own")
def recharge_record(request_no):
    """One of the user's own recharge records, by requestNo (what the result page shows)."""
    return ok(payments.find_record(dependencies().pool, RECHARGE, current_user_no(), own_request_no(request_no)))


@bp.get("/my/withdraw-records/<request_no>")
@_documented_errors
@bp.response(200, envelope("WithdrawRecordResponse", WithdrawRecord))
@bp.alt_response(404, schema=ErrorResponse, description="no such withdraw among the user's own")
def withdraw_record(request_no):
    """One of the user's own withdraw records, by requestNo (what the result page shows)."""
    return ok(payments.find_record(dependencies().pool, WITHDRAW, current_user_no(), own_request_no(request_no)))


@bp.get("/my/balances")
@_documented_errors
@bp.response(200, envelope("BalanceResponse", Balance))
def balances():
    """The wallet balance from the ledger (``"0.00"`` before the account is opened)."""
    deps = dependencies()
    return ok(payments.balance(deps.pool, deps.ledger, current_user_no()))


@bp.get("/my/loans")
@_documented_errors
@bp.response(200, envelope("MyLoansResponse", MyLoans))
@bp.alt_response(502, schema=ErrorResponse, description="lending answered something that is not the loans")
def my_loans():
    """The user's own loans (newest first) with their repayment plans, from lending; 503 while lending cannot
    answer."""
    return ok(loans.my_loans(dependencies().lending, current_user_no()))
