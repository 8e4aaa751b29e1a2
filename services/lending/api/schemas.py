"""The partner API's formats: each call's bizData (validated once the envelope opened) and each answer's
``data``; they also make the OpenAPI document. Amounts are whole fen, numbers JSON integers."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.web import FullMatch

from lending.identity import id_number_problem
from lending.orders import BANK_CODES
from lending.schedules import ALL

KEY = FullMatch(r"[A-Za-z0-9_-]{1,64}", error="must be 1-64 letters, digits, _ or -")
MD5 = FullMatch(r"[0-9a-f]{32}", error="must be 32 lower-case hexadecimal characters")
MOBILE = FullMatch(r"1[0-9]{10}", error="must be 11 digits starting with 1")
MAX_FEN = 10**12
MAX_PERIODS = 360


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

    def _deserialize(self, value, attr, data, **kwargs):
        if value == ALL:
            return ALL
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_PERIODS or not all(
                isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_PERIODS for n in value):
            raise ValidationError(f'must be "all" or a list of 1-{MAX_PERIODS} period numbers')
        if len(set(value)) != len(value):
            raise ValidationError("repeats a period")
        return value


class Biz(Schema):
    """bizData: fields the partner adds beyond these are ignored."""

    class Meta:
        unknown = EXCLUDE


def _order_no(**kwargs):
    return fields.String(data_key="orderNo", attribute="order_no", validate=KEY, **kwargs)


class FilterBiz(Biz):
    mobileMd5 = fields.String(required=True, attribute="mobile_md5", validate=MD5)
    idNumberMd5 = fields.String(required=True, attribute="id_number_md5", validate=MD5)


class TrialBiz(Biz):
    loanAmount = Whole(1, MAX_FEN, required=True, attribute="loan_amount")
    loanTerm = Whole(1, MAX_PERIODS, required=True, attribute="loan_term")


class AgreementsBiz(Biz):
    orderNo = _order_no(load_default=None)


class PushBiz(TrialBiz):
    orderNo = _order_no(required=True)
    name = fields.String(required=True, validate=[validate.Length(1, 50), _printable])
    mobile = fields.String(required=True, validate=MOBILE)
    idNumber = fields.String(required=True, attribute="id_number", validate=_id_number)


class OrderBiz(Biz):
    orderNo = _order_no(required=True)


class CardBindBiz(OrderBiz):
    bankCode = fields.String(required=True, attribute="bank_code", validate=validate.OneOf(sorted(BANK_CODES)))
    cardNumber = fields.String(required=True, attribute="card_number",
                               validate=FullMatch(r"[0-9]{12,19}", error="must be 12-19 digits"))
    mobile = fields.String(required=True, validate=MOBILE)


class RepayTrialBiz(OrderBiz):
    periods = Periods(required=True)


class RepayBiz(RepayTrialBiz):
    repayNo = fields.String(required=True, attribute="repay_no", validate=KEY)
    amount = Whole(1, MAX_FEN, required=True)


class RepayResultBiz(Biz):
    repayNo = fields.String(required=True, attribute="repay_no", validate=KEY)


# --- what the answers' ``data`` hold (documentation) ------------------------------------------------

class Envelope(Schema):
    appId = fields.String(required=True, metadata={"example": "rongshu"})
    timestamp = fields.Integer(required=True, metadata={"description": "milliseconds since the epoch"})
    bizData = fields.String(required=True, metadata={"description": "the call's JSON object, as a string"})
    sign = fields.String(required=True, metadata={
        "description": "lower-case hex MD5 of appId=..&bizData=..&timestamp=..&key=<secret>"})


class FilterData(Schema):
    admit = fields.Boolean(required=True)
    reason = fields.String()
    canLoanTime = fields.String(metadata={"description": "YYYY-MM-DD, the first day allowed"})


class TrialPlan(Schema):
    period = fields.Integer()
    dueDate = fields.String()
    principal = fields.Integer()
    interest = fields.Integer()
    total = fields.Integer()


class TrialData(Schema):
    loanAmount = fields.Integer()
    serviceFee = fields.Integer()
    actualAmount = fields.Integer()
    totalInterest = fields.Integer()
    totalRepay = fields.Integer()
    plans = fields.List(fields.Nested(TrialPlan))


class Agreement(Schema):
    name = fields.String()
    url = fields.String()


class AgreementsData(Schema):
    agreements = fields.List(fields.Nested(Agreement))


class PushData(Schema):
    orderNo = fields.String()
    status = fields.Integer()


class AuditData(Schema):
    orderNo = fields.String()
    status = fields.Integer(metadata={"description": "6003 in review, 6004 refused, 6001 approved"})
    reason = fields.String()
    approvedAmount = fields.Integer()


class Bank(Schema):
    bankCode = fields.String()
    bankName = fields.String()


class BanksData(Schema):
    banks = fields.List(fields.Nested(Bank))


class CardData(Schema):
    bound = fields.Boolean()
    isDefault = fields.Boolean()


class ConfirmData(Schema):
    status = fields.String(metadata={"description": "ACCEPTED or OPEN_ACCOUNT"})
    borrowNo = fields.String()
    openAccountUrl = fields.String()


class LoanResultData(Schema):
    status = fields.Integer(metadata={"description": "7002 in progress, 7003 refused, 7001 disbursed"})
    loanTime = fields.String()
    reason = fields.String()


class PlanLine(TrialPlan):
    penalty = fields.Integer()
    paid = fields.Integer()
    status = fields.Integer(metadata={"description": "0 due, 1 paid, 2 overdue"})
    overdueDays = fields.Integer()


class PlanData(Schema):
    plans = fields.List(fields.Nested(PlanLine))


class RepayTrialData(Schema):
    amount = fields.Integer()
    principal = fields.Integer()
    interest = fields.Integer()
    penalty = fields.Integer()


class RepayData(Schema):
    repayNo = fields.String()
    status = fields.String(metadata={"description": "PROCESSING, SUCCESS or FAILED"})
    reason = fields.String()


class Loan(Schema):
    orderNo = fields.String()
    borrowNo = fields.String()
    status = fields.Integer()
    amount = fields.Integer()
    serviceFee = fields.Integer()
    term = fields.Integer()
    annualRate = fields.String()
    repaymentWay = fields.String()
    loanTime = fields.String(allow_none=True)
    plans = fields.List(fields.Nested(PlanLine))


class LoansData(Schema):
    loans = fields.List(fields.Nested(Loan))


class LoansQuery(Schema):
    userNo = fields.String(required=True, attribute="user_no", validate=FullMatch(r"USR_[0-9A-F]{32}",
                                                                                 error="must be USR_ + 32 hex"))


def answer_schema(name: str, data: type[Schema]) -> type[Schema]:
    """``{code, msg, data}`` around ``data``."""
    return type(name, (Schema,), {"code": fields.Integer(), "msg": fields.String(), "data": fields.Nested(data)})
