"""The simulation's inputs (lending validates orders strictly; the sandbox passes on what it is given,
so that lending's refusals can be tried too, within what it can store) and answers."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.contract import ALL_PERIODS

MAX_PERIOD = 999


class Input(Schema):
    class Meta:
        unknown = EXCLUDE


class Whole(fields.Integer):
    """A JSON integer (never a string, a float or a boolean) within ``[1, high]``."""

    def __init__(self, high: int, **kwargs):
        super().__init__(strict=True, validate=validate.Range(1, high), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be an integer")
        return super()._deserialize(value, attr, data, **kwargs)


class NewOrder(Input):
    name = fields.String(required=True, validate=validate.Length(1, 50))
    mobile = fields.String(required=True, validate=validate.Length(1, 20))
    idNumber = fields.String(required=True, attribute="id_number", validate=validate.Length(1, 20))
    loanAmount = Whole(10**12, required=True, attribute="loan_amount", metadata={"description": "fen"})
    loanTerm = Whole(99_999, required=True, attribute="loan_term", metadata={"description": "months"})


class Card(Input):
    bankCode = fields.String(load_default=None, validate=validate.Length(1, 20))
    cardNumber = fields.String(load_default=None, validate=validate.Length(1, 30))
    mobile = fields.String(load_default=None, validate=validate.Length(1, 20))


class Periods(fields.Field):
    """``"all"`` or a non-empty list of period numbers (passed on as they are: lending judges them)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"oneOf": [{"type": "string", "enum": [ALL_PERIODS]},
                                             {"type": "array", "minItems": 1, "items": {
                                                 "type": "integer", "minimum": 1, "maximum": MAX_PERIOD}}]},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value == ALL_PERIODS or (isinstance(value, list) and value and all(
                isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_PERIOD for n in value)):
            return value
        raise ValidationError(f'must be "{ALL_PERIODS}" or a list of period numbers')


class RepayIn(Input):
    periods = Periods(required=True)


class Faults(Input):
    failFirst = fields.Integer(required=True, strict=True, attribute="fail_first", validate=validate.Range(0, 100))
    delayMs = fields.Integer(required=True, strict=True, attribute="delay_ms", validate=validate.Range(0, 60000))


class LendingAnswer(Schema):
    """lending's answer as it came: ``{code, msg, data?}``."""

    code = fields.Integer()
    msg = fields.String()
    data = fields.Raw()


class Pushed(Schema):
    orderNo = fields.String()
    status = fields.Integer(allow_none=True)
    lending = fields.Nested(LendingAnswer, metadata={"description": "lending's answer to order/push"})


class RepayAnswers(Schema):
    trial = fields.Nested(LendingAnswer)
    repay = fields.Nested(LendingAnswer)


class OrderView(Schema):
    orderNo = fields.String()
    order = fields.Dict(allow_none=True)
    actions = fields.List(fields.Dict())
    callbacks = fields.List(fields.Dict())
    queries = fields.Dict()


class FaultsView(Schema):
    failFirst = fields.Integer()
    delayMs = fields.Integer()
