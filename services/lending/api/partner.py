"""The partner API (docs/protocols.md, docs/lending.md): ``POST /rongshu/<name>`` with the signed envelope.

Every call opens the envelope first (appId, sign in constant time, timestamp within 300 s, strict
bizData: :mod:`shared.partner_envelope`), then validates its bizData, then acts. Answers are
``{"code": 0, "msg": "success", "data": {...}}``; refusals ``{code, msg}`` with 400/1001 (envelope
or bizData), 404/1004 (unknown order) or 409/1009 (other content under the same key, or a wrong
state); a refused call stores nothing.
"""
import json
import time

from flask import current_app, request
from marshmallow import Schema, ValidationError

from shared.errors import AppError, BadRequest
from shared.contract import BAD_REQUEST, CONFLICT, UNKNOWN_ORDER
from shared.partner_envelope import EnvelopeError, open_envelope
from shared.web import Blueprint, ErrorSchema, error_response

from lending import clock, confirmation, orders, repayment, schedules, settlement
from lending.api import schemas
from lending.loans import loan_result

bp = Blueprint("partner", __name__, description="The lending partner's API (Rongshu): signed envelope, fen amounts")
PARTNER_CODES = {400: BAD_REQUEST, 404: UNKNOWN_ORDER, 409: CONFLICT}


@bp.errorhandler(AppError)
def _refused(exc: AppError):
    return error_response(exc.status, PARTNER_CODES.get(exc.status, exc.code), exc.msg)


def _deps():
    return current_app.extensions["lending"]


def _documented(biz: type[Schema], data: type[Schema], name: str, refusals=(400, 404, 409)):
    """The OpenAPI description of a partner call: the envelope in, ``{code, msg, data}`` out."""
    def decorate(view):
        for status in refusals:
            view = bp.alt_response(status, schema=ErrorSchema)(view)
        view = bp.response(200, schemas.answer_schema(f"{name}Answer", data))(view)
        fields = ", ".join(field.data_key or key for key, field in biz().fields.items())
        return bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": schemas.Envelope}}},
                      description=f"bizData: {{{fields}}}" if fields else "bizData: {}")(view)
    return decorate


def _open(biz: type[Schema]) -> tuple[dict, str]:
    """The request's validated bizData and its envelope's sign; 400/1001 for anything else."""
    config = current_app.config
    try:
        envelope = _strict_json(request.get_data(cache=False))
        opened = open_envelope(envelope, config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"], int(time.time() * 1000))
    except EnvelopeError as exc:
        raise BadRequest(exc.msg) from None
    try:
        return biz().load(opened), envelope["sign"]
    except ValidationError as exc:
        raise BadRequest("bad bizData: " + "; ".join(f"{field}: {', '.join(map(str, problems))}"
                                                     for field, problems in exc.messages.items())) from None


def _strict_json(raw: bytes) -> object:
    """The body as JSON: strict UTF-8, no repeated key, no NaN (what two parsers could read differently)."""
    def unique(pairs):
        if len({key for key, _ in pairs}) != len(pairs):
            raise EnvelopeError("the body repeats a key")
        return dict(pairs)

    def refuse(name):
        raise EnvelopeError(f"the body holds {name}")

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=unique, parse_constant=refuse)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnvelopeError("the body must be a JSON object in UTF-8") from None


def _ok(data: dict) -> dict:
    return {"code": 0, "msg": "success", "data": data}


@bp.route("/rongshu/user/filter", methods=["POST"])
@_documented(schemas.FilterBiz, schemas.FilterData, "Filter", refusals=(400,))
def user_filter():
    """Whether a person (by the MD5 of mobile and ID number) may apply now."""
    biz, _ = _open(schemas.FilterBiz)
    return _ok(orders.user_filter(_deps().pool, current_app.config, biz["id_number_md5"], biz["mobile_md5"]))


@bp.route("/rongshu/loan/trial", methods=["POST"])
@_documented(schemas.TrialBiz, schemas.TrialData, "LoanTrial", refusals=(400,))
def loan_trial():
    """The fee, interest and plan of a loan disbursed today (the product's amount and term limits apply)."""
    biz, _ = _open(schemas.TrialBiz)
    deps, config = _deps(), current_app.config
    problem = deps.rules.product_problem(biz["loan_amount"], biz["loan_term"])
    if problem:
        raise BadRequest(problem)
    periods = schedules.schedule(biz["loan_amount"], biz["loan_term"], config["ANNUAL_RATE_FRACTION"],
                                 config["REPAYMENT_WAY"], clock.today(config))
    fee = schedules.service_fee(biz["loan_amount"], config["SERVICE_FEE_RATE_FRACTION"])
    interest = sum(period.interest for period in periods)
    return _ok({"loanAmount": biz["loan_amount"], "serviceFee": fee, "actualAmount": biz["loan_amount"] - fee,
                "totalInterest": interest, "totalRepay": biz["loan_amount"] + interest,
                "plans": [{"period": p.period, "dueDate": p.due_date.isoformat(), "principal": p.principal,
                           "interest": p.interest, "total": p.total} for p in periods]})


@bp.route("/rongshu/agreements", methods=["POST"])
@_documented(schemas.AgreementsBiz, schemas.AgreementsData, "Agreements", refusals=(400, 404))
def agreement_list():
    """The agreements the borrower signs (for one order when orderNo is given)."""
    biz, _ = _open(schemas.AgreementsBiz)
    return _ok(orders.agreements(_deps().pool, current_app.config, biz["order_no"]))


@bp.route("/rongshu/order/push", methods=["POST"])
@_documented(schemas.PushBiz, schemas.PushData, "OrderPush", refusals=(400, 409))
def order_push():
    """A new loan order (status 0); idempotent by orderNo."""
    biz, _ = _open(schemas.PushBiz)
    return _ok(orders.push(_deps().pool, current_app.config, biz))


@bp.route("/rongshu/audit/result", methods=["POST"])
@_documented(schemas.OrderBiz, schemas.AuditData, "AuditResult", refusals=(400, 404))
def audit_result():
    """The credit decision: 6003 in review, 6004 refused, 6001 approved."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(orders.audit_result(_deps().pool, biz["order_no"]))


@bp.route("/rongshu/banks", methods=["POST"])
@_documented(schemas.Biz, schemas.BanksData, "Banks", refusals=(400,))
def bank_list():
    """The banks whose cards can be bound."""
    _open(schemas.Biz)
    return _ok(orders.banks())


@bp.route("/rongshu/card/bind", methods=["POST"])
@_documented(schemas.CardBindBiz, schemas.CardData, "CardBind")
def card_bind():
    """Bind a card (no SMS code); the first card is the default for disbursement and repayment."""
    biz, sign = _open(schemas.CardBindBiz)
    return _ok(orders.bind_card(_deps().pool, biz, sign))


@bp.route("/rongshu/loan/confirm", methods=["POST"])
@_documented(schemas.OrderBiz, schemas.ConfirmData, "LoanConfirm")
def loan_confirm():
    """The borrower confirms the approved order: the borrow, or a one-time link to open the account first."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(confirmation.confirm(_deps(), biz["order_no"]))


@bp.route("/rongshu/loan/result", methods=["POST"])
@_documented(schemas.OrderBiz, schemas.LoanResultData, "LoanResult")
def loan_result_view():
    """The disbursement: 7002 in progress, 7003 refused, 7001 disbursed."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(loan_result(_deps(), biz["order_no"]))


@bp.route("/rongshu/repay/plan", methods=["POST"])
@_documented(schemas.OrderBiz, schemas.PlanData, "RepayPlan")
def repay_plan():
    """The repayment plan as it stands today (penalties of the day included)."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(repayment.plan(_deps(), biz["order_no"]))


@bp.route("/rongshu/repay/trial", methods=["POST"])
@_documented(schemas.RepayTrialBiz, schemas.RepayTrialData, "RepayTrial")
def repay_trial():
    """What repaying the periods costs now; "all" settles early with interest only up to today."""
    biz, _ = _open(schemas.RepayTrialBiz)
    return _ok(repayment.trial(_deps(), biz["order_no"], biz["periods"]))


@bp.route("/rongshu/repay", methods=["POST"])
@_documented(schemas.RepayBiz, schemas.RepayData, "Repay")
def repay():
    """Repay periods: the amount due is frozen in the borrower's account, then paid out; idempotent by repayNo."""
    biz, _ = _open(schemas.RepayBiz)
    deps = _deps()
    answer, freezes = repayment.start(deps, biz)
    if freezes:  # the freeze only: its confirmation is the repay-result worker's, the answer stays PROCESSING
        settlement.send_all(deps, freezes, follow_up=False)
        answer = repayment.answer_of(deps, biz["repay_no"])
    return _ok(answer)


@bp.route("/rongshu/repay/result", methods=["POST"])
@_documented(schemas.RepayResultBiz, schemas.RepayData, "RepayResult", refusals=(400, 404))
def repay_result():
    """A repayment's status: PROCESSING, SUCCESS or FAILED (with the reason)."""
    biz, _ = _open(schemas.RepayResultBiz)
    return _ok(repayment.result(_deps(), biz["repay_no"]))
