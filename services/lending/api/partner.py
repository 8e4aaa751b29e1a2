"""The partner API (docs/lending.md, "Partner API"): ``POST /rongshu/<name>`` with the signed envelope.

Every call opens the envelope first (appId, sign in constant time, timestamp within 300 s, strict
bizData: :mod:`shared.partner_envelope`), then validates its bizData, then acts. Answers are
``{"code": 0, "msg": "success", "data": {...}}``; refusals ``{code, msg}`` with 400/1001 (envelope
or bizData), 404/1004 (unknown order) or 409/1009 (other content under the same key, or a wrong
state); a refused call stores nothing.
"""
import functools
import json
import time

from flask import request
from marshmallow import Schema, ValidationError

from shared.contract import PARTNER_BAD_REQUEST, PARTNER_CONFLICT, PARTNER_SUCCESS, PARTNER_UNKNOWN_ORDER
from shared.errors import AppError, BadRequest
from shared.partner_envelope import EnvelopeError, envelope_schema, open_envelope
from shared.web import Blueprint, ErrorSchema, error_response

from lending import call_settlement, loan_confirmation, loans, orders, repayment
from lending.api import schemas
from lending.bootstrap import dependencies

bp = Blueprint("partner", __name__, description="The lending partner's API (Rongshu): signed envelope, fen amounts")
PARTNER_CODES = {400: PARTNER_BAD_REQUEST, 404: PARTNER_UNKNOWN_ORDER, 409: PARTNER_CONFLICT}
ENVELOPE_REF = "#/components/schemas/Envelope"
REFUSALS = {400: "the envelope or bizData refused (code 1001)", 404: "unknown orderNo or repayNo (code 1004)",
            409: "the same key with other content, or a wrong state (code 1009)",
            502: "user-center refused the borrower", 503: "user-center unreachable: try again"}
BIZ_SCHEMAS: list[type[Schema]] = []  # each call's bizData, documented as a component of its own


@bp.errorhandler(AppError)
def _refused(exc: AppError):
    return error_response(exc.status, PARTNER_CODES.get(exc.status, exc.code), exc.msg)


def _call(biz: type[Schema], data: type[Schema], refusals=(400, 404, 409)):
    """The OpenAPI description of a partner call: the envelope in (its bizData's schema as ``x-bizData``),
    the answer with ``data`` out, and the refusals it gives."""
    if biz not in BIZ_SCHEMAS:
        BIZ_SCHEMAS.append(biz)

    def decorate(view):
        for status in refusals:
            view = bp.alt_response(status, schema=ErrorSchema, description=REFUSALS[status])(view)
        view = bp.response(200, schemas.answer(data))(view)
        return bp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
            "$ref": ENVELOPE_REF}}}}, **{"x-bizData": {"$ref": f"#/components/schemas/{biz.__name__}"}})(view)
    return decorate


def document(spec, app_id: str) -> None:
    """Add the envelope (with the configured ``app_id``) and every call's bizData schema to the OpenAPI spec."""
    spec.components.schema("Envelope", envelope_schema(app_id))
    for biz in BIZ_SCHEMAS:
        spec.components.schema(biz.__name__, schema=biz)


def _open(biz: type[Schema]) -> tuple[dict, str]:
    """The request's validated bizData and its envelope's sign; 400/1001 for anything else."""
    config = dependencies().config
    try:
        envelope = _strict_json(request.get_data(cache=False))
        opened = open_envelope(envelope, config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"], int(time.time() * 1000))
    except EnvelopeError as exc:
        raise BadRequest(exc.msg) from None
    try:
        return _instance(biz).load(opened), envelope["sign"]
    except ValidationError as exc:
        raise BadRequest("bad bizData: " + "; ".join(f"{field}: {', '.join(map(str, problems))}"
                                                     for field, problems in exc.messages.items())) from None


@functools.cache
def _instance(biz: type[Schema]) -> Schema:
    """One instance of each bizData schema, built once: building one costs more than loading with it."""
    return biz()


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
    return {"code": PARTNER_SUCCESS, "msg": "success", "data": data}


@bp.post("/rongshu/user/filter")
@_call(schemas.FilterBiz, schemas.FilterData, refusals=(400,))
def user_filter():
    """Whether a person (by the MD5 of mobile and ID number) may apply now."""
    biz, _ = _open(schemas.FilterBiz)
    deps = dependencies()
    return _ok(orders.user_filter(deps.pool, deps.config, biz["id_number_md5"], biz["mobile_md5"]))


@bp.post("/rongshu/loan/trial")
@_call(schemas.TrialBiz, schemas.TrialData, refusals=(400,))
def loan_trial():
    """The fee, interest and plan of a loan disbursed today (the product's amount and term limits apply)."""
    biz, _ = _open(schemas.TrialBiz)
    deps = dependencies()
    problem = deps.rules.product_problem(biz["loan_amount"], biz["loan_term"])
    if problem:
        raise BadRequest(problem)
    return _ok(loans.trial(deps.config, biz["loan_amount"], biz["loan_term"]))


@bp.post("/rongshu/agreements")
@_call(schemas.AgreementsBiz, schemas.AgreementsData, refusals=(400, 404))
def agreement_list():
    """The agreements the borrower signs (for one order when orderNo is given)."""
    biz, _ = _open(schemas.AgreementsBiz)
    deps = dependencies()
    return _ok(orders.agreements(deps.pool, deps.config, biz["order_no"]))


@bp.post("/rongshu/order/push")
@_call(schemas.PushBiz, schemas.PushData, refusals=(400, 409))
def order_push():
    """A new loan order (status 0); idempotent by orderNo."""
    biz, _ = _open(schemas.PushBiz)
    deps = dependencies()
    return _ok(orders.push(deps.pool, deps.config, biz))


@bp.post("/rongshu/audit/result")
@_call(schemas.OrderBiz, schemas.AuditData, refusals=(400, 404))
def audit_result():
    """The credit decision: 6003 in review, 6004 refused, 6001 approved."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(orders.audit_result(dependencies().pool, biz["order_no"]))


@bp.post("/rongshu/banks")
@_call(schemas.Biz, schemas.BanksData, refusals=(400,))
def bank_list():
    """The banks whose cards can be bound."""
    _open(schemas.Biz)
    return _ok(orders.banks())


@bp.post("/rongshu/card/bind")
@_call(schemas.CardBindBiz, schemas.CardData)
def card_bind():
    """Bind a card (no SMS code); the first card is the default for disbursement and repayment."""
    biz, sign = _open(schemas.CardBindBiz)
    return _ok(orders.bind_card(dependencies().pool, biz, sign))


@bp.post("/rongshu/loan/confirm")
@_call(schemas.OrderBiz, schemas.ConfirmData, refusals=(400, 404, 409, 502, 503))
def loan_confirm():
    """The borrower confirms the approved order: the borrow, or a one-time link to open the account first."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(loan_confirmation.confirm(dependencies(), biz["order_no"]))


@bp.post("/rongshu/loan/result")
@_call(schemas.OrderBiz, schemas.LoanResultData)
def loan_result():
    """The disbursement: 7002 in progress, 7003 refused, 7001 disbursed."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(loans.loan_result(dependencies(), biz["order_no"]))


@bp.post("/rongshu/repay/plan")
@_call(schemas.OrderBiz, schemas.PlanData)
def repay_plan():
    """The repayment plan as it stands today (penalties of the day included)."""
    biz, _ = _open(schemas.OrderBiz)
    return _ok(repayment.plan(dependencies(), biz["order_no"]))


@bp.post("/rongshu/repay/trial")
@_call(schemas.RepayTrialBiz, schemas.RepayTrialData)
def repay_trial():
    """What repaying the periods costs now; "all" settles early with interest only up to today."""
    biz, _ = _open(schemas.RepayTrialBiz)
    return _ok(repayment.trial(dependencies(), biz["order_no"], biz["periods"]))


@bp.post("/rongshu/repay")
@_call(schemas.RepayBiz, schemas.RepayData)
def repay():
    """Repay periods: the amount due is frozen in the borrower's account, then paid out; idempotent by repayNo."""
    biz, _ = _open(schemas.RepayBiz)
    deps = dependencies()
    answer, freezes = repayment.start(deps, biz)
    if freezes:  # the freeze only: its confirmation is the repay-result worker's, the answer stays PROCESSING
        call_settlement.send_all(deps, freezes, follow_up=False)
        answer = repayment.answer_of(deps, biz["repay_no"])
    return _ok(answer)


@bp.post("/rongshu/repay/result")
@_call(schemas.RepayResultBiz, schemas.RepayData, refusals=(400, 404))
def repay_result():
    """A repayment's status: PROCESSING, SUCCESS or FAILED (with the reason)."""
    biz, _ = _open(schemas.RepayResultBiz)
    return _ok(repayment.result(dependencies(), biz["repay_no"]))
