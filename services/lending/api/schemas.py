"""The partner API's formats: the envelope, each call's bizData (validated once the envelope opened) and each
answer's ``data``; they also make the OpenAPI document. Amounts are whole fen, numbers JSON integers.

Patterns are anchored (``^...$``): OpenAPI reads a pattern as a search, the API as a full match.
"""
from functools import cache

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.contract import (ALL_PERIODS, AUDIT_APPROVED, AUDIT_IN_REVIEW, AUDIT_REFUSED, CONFIRM_ACCEPTED,
                             CONFIRM_OPEN_ACCOUNT, FIXED_CAPITAL, FIXED_REPAYMENT, LOAN_DISBURSED, LOAN_IN_PROGRESS,
                             LOAN_REFUSED, PARTNER_SUCCESS, REPAY_FAILED, REPAY_PROCESSING, REPAY_SUCCESS,
                             USER_NO_PATTERN, USER_NO_RULE)
from shared.web import FullMatch

from lending.credit_engine import id_number_problem
from lending.orders import BANK_CODES

KEY = FullMatch(r"^[A-Za-z0-9_-]{1,64}$", error="must be 1-64 letters, digits, _ or -")
MD5 = FullMatch(r"^[0-9a-f]{32}$", error="must be 32 lower-case hexadecimal characters")
MOBILE = FullMatch(r"^1[0-9]{10}$", error="must be 11 digits starting with 1")
ID_NUMBER = FullMatch(r"^[0-9]{17}[0-9X]$", error="must be 17 digits and a check digit or upper-case X")
CARD_NUMBER = FullMatch(r"^[0-9]{12,19}$", error="must be 12-19 digits")
# Printable text without surrounding spaces (Python's str.isprintable; the pattern says what JSON Schema can).
NAME_PATTERN = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
MAX_FEN = 10**12
MAX_PERIODS = 360
DATE_TEXT = {"format": "date", "description": "YYYY-MM-DD"}


class Whole(fields.Integer):
    """A JSON integer (never a string, a float or a boolean) within ``[low, high]``."""

    def __init__(self, low: int, high: int, **kwargs):
        super().__init__(strict=True, validate=validate.Range(low, high), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be an integer")
        return super()._deserialize(value, attr, data, **kwargs)


def _printable(value: str) -> None:
    if not value.isprintable() or value != value.strip():
        raise ValidationError("must be printable text without surrounding spaces")


def _id_number(value: str) -> None:
    problem = id_number_problem(value)
    if problem:
        raise ValidationError(problem)


class Periods(fields.Field):
    """``"all"`` (settle early) or a non-empty list of distinct period numbers."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"description": f'"{ALL_PERIODS}" settles early; else the earliest unpaid periods',
                                   "oneOf": [{"type": "string", "enum": [ALL_PERIODS]},
                                             {"type": "array", "minItems": 1, "maxItems": MAX_PERIODS,
                                              "uniqueItems": True,
                                              "items": {"type": "integer", "minimum": 1, "maximum": MAX_PERIODS}}]},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value == ALL_PERIODS:
            return ALL_PERIODS
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_PERIODS or not all(
                isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_PERIODS for n in value):
            raise ValidationError(f'must be "{ALL_PERIODS}" or a list of 1-{MAX_PERIODS} period numbers')
        if len(set(value)) != len(value):
            raise ValidationError("repeats a period")
        return value


# --- each call's bizData ------------------------------------------------------------------------------------

class Biz(Schema):
    """bizData: fields the partner adds beyond these are ignored."""

    class Meta:
        unknown = EXCLUDE


def _order_no(**kwargs):
    return fields.String(data_key="orderNo", attribute="order_no", validate=KEY, **kwargs)


class FilterBiz(Biz):
    mobileMd5 = fields.String(required=True, attribute="mobile_md5", validate=MD5,
                              metadata={"description": "lower-case hex MD5 of the mobile"})
    idNumberMd5 = fields.String(required=True, attribute="id_number_md5", validate=MD5,
                                metadata={"description": "lower-case hex MD5 of the ID number"})


class TrialBiz(Biz):
    loanAmount = Whole(1, MAX_FEN, required=True, attribute="loan_amount",
                       metadata={"description": "fen; the product's limits (CREDIT_MIN_AMOUNT..CREDIT_MAX_AMOUNT) "
                                                "apply too"})
    loanTerm = Whole(1, MAX_PERIODS, required=True, attribute="loan_term",
                     metadata={"description": "months; the product's limits (CREDIT_MIN_TERM..CREDIT_MAX_TERM) "
                                              "apply too"})


class AgreementsBiz(Biz):
    orderNo = _order_no(load_default=None)


class PushBiz(TrialBiz):
    orderNo = _order_no(required=True)
    name = fields.String(required=True, validate=[validate.Length(1, 50), _printable],
                         metadata={"pattern": NAME_PATTERN, "description": "printable, no surrounding spaces"})
    mobile = fields.String(required=True, validate=MOBILE)
    idNumber = fields.String(required=True, attribute="id_number", validate=[ID_NUMBER, _id_number],
                             metadata={"description": "GB 11643: a valid check digit and a real birth date"})


class OrderBiz(Biz):
    orderNo = _order_no(required=True)


class CardBindBiz(OrderBiz):
    bankCode = fields.String(required=True, attribute="bank_code", validate=validate.OneOf(sorted(BANK_CODES)))
    cardNumber = fields.String(required=True, attribute="card_number", validate=CARD_NUMBER)
    mobile = fields.String(required=True, validate=MOBILE)


class RepayTrialBiz(OrderBiz):
    periods = Periods(required=True)


class RepayBiz(RepayTrialBiz):
    repayNo = fields.String(required=True, attribute="repay_no", validate=KEY)
    amount = Whole(1, MAX_FEN, required=True, metadata={"description": "fen: exactly repay/trial's amount now"})


class RepayResultBiz(Biz):
    repayNo = fields.String(required=True, attribute="repay_no", validate=KEY)


# --- what the answers' ``data`` hold ------------------------------------------------------------------------

class FilterData(Schema):
    admit = fields.Boolean(required=True)
    reason = fields.String()
    canLoanTime = fields.String(metadata={**DATE_TEXT, "description": "YYYY-MM-DD, the first day allowed"})


class TrialPlan(Schema):
    period = fields.Integer(required=True)
    dueDate = fields.String(required=True, metadata=DATE_TEXT)
    principal = fields.Integer(required=True)
    interest = fields.Integer(required=True)
    total = fields.Integer(required=True)


class TrialData(Schema):
    loanAmount = fields.Integer(required=True)
    serviceFee = fields.Integer(required=True)
    actualAmount = fields.Integer(required=True)
    totalInterest = fields.Integer(required=True)
    totalRepay = fields.Integer(required=True)
    plans = fields.List(fields.Nested(TrialPlan), required=True)


class Agreement(Schema):
    name = fields.String(required=True)
    url = fields.String(required=True)


class AgreementsData(Schema):
    agreements = fields.List(fields.Nested(Agreement), required=True)


class PushData(Schema):
    orderNo = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "the order's status (0 pushed, ...)"})


class AuditData(Schema):
    orderNo = fields.String(required=True)
    status = fields.Integer(required=True, validate=validate.OneOf([AUDIT_IN_REVIEW, AUDIT_REFUSED, AUDIT_APPROVED]),
                            metadata={"description": "6003 in review, 6004 refused, 6001 approved"})
    reason = fields.String()
    approvedAmount = fields.Integer()


class Bank(Schema):
    bankCode = fields.String(required=True)
    bankName = fields.String(required=True)


class BanksData(Schema):
    banks = fields.List(fields.Nested(Bank), required=True)


class CardData(Schema):
    bound = fields.Boolean(required=True)
    isDefault = fields.Boolean(required=True)


class ConfirmData(Schema):
    status = fields.String(required=True, validate=validate.OneOf([CONFIRM_ACCEPTED, CONFIRM_OPEN_ACCOUNT]))
    borrowNo = fields.String(metadata={"description": "with ACCEPTED"})
    openAccountUrl = fields.String(metadata={"description": "with OPEN_ACCOUNT: the one-time link"})


class LoanResultData(Schema):
    status = fields.Integer(required=True, validate=validate.OneOf([LOAN_IN_PROGRESS, LOAN_REFUSED, LOAN_DISBURSED]),
                            metadata={"description": "7002 in progress, 7003 refused, 7001 disbursed"})
    loanTime = fields.String(metadata={"description": "yyyy-MM-dd HH:mm:ss"})
    reason = fields.String()


class PlanLine(TrialPlan):
    penalty = fields.Integer(required=True)
    paid = fields.Integer(required=True)
    status = fields.Integer(required=True, validate=validate.OneOf([0, 1, 2]),
                            metadata={"description": "0 due, 1 paid, 2 overdue"})
    overdueDays = fields.Integer(required=True)


class PlanData(Schema):
    plans = fields.List(fields.Nested(PlanLine), required=True)


class RepayTrialData(Schema):
    amount = fields.Integer(required=True)
    principal = fields.Integer(required=True)
    interest = fields.Integer(required=True)
    penalty = fields.Integer(required=True)


class RepayData(Schema):
    repayNo = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([REPAY_PROCESSING, REPAY_SUCCESS, REPAY_FAILED]))
    reason = fields.String()


# --- the answers: {"code": 0, "msg": "success", "data": ...} ------------------------------------------------

class Answer(Schema):
    """What every answer holds besides its ``data``."""

    code = fields.Integer(required=True, validate=validate.Equal(PARTNER_SUCCESS))
    msg = fields.String(required=True)


@cache
def answer(data: type[Schema]) -> type[Schema]:
    """The answer carrying ``data``: ``FilterData`` -> ``FilterAnswer`` (one class per data schema)."""
    return type(data.__name__.removesuffix("Data") + "Answer", (Answer,),
                {"data": fields.Nested(data, required=True)})


# --- the internal read --------------------------------------------------------------------------------------

class Loan(Schema):
    orderNo = fields.String(required=True)
    borrowNo = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "the borrow's status (30 disbursed, ...)"})
    amount = fields.Integer(required=True)
    serviceFee = fields.Integer(required=True)
    term = fields.Integer(required=True)
    annualRate = fields.String(required=True)
    repaymentWay = fields.String(required=True, validate=validate.OneOf([FIXED_REPAYMENT, FIXED_CAPITAL]))
    loanTime = fields.String(required=True, allow_none=True)
    plans = fields.List(fields.Nested(PlanLine), required=True)


class LoansData(Schema):
    loans = fields.List(fields.Nested(Loan), required=True)


class LoansQuery(Schema):
    userNo = fields.String(required=True, attribute="user_no",
                           validate=FullMatch(f"^{USER_NO_PATTERN}$", error=f"must be {USER_NO_RULE}"))
