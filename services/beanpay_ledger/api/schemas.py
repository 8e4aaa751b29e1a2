"""Request and response schemas of the ledger API: the only place its formats are written. The API shell
(api/shell.py) parses every request with them and documents every endpoint from them.

The input rules themselves live in :mod:`beanpay_ledger.validation`, shared with the batch and the library.
"""
from datetime import datetime, timedelta

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from beanpay_ledger.accounts import RECORD_PAGE_MAX
from beanpay_ledger.validation import (IDENTIFIER, MAX_AMOUNT, TRADE_NUMBER, identifier, label_pattern, trade_number,
                                       whole_number)

_DAY_FORMATS = ("%Y%m%d", "%Y-%m-%d")
_TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


class WholeNumber(fields.Integer):
    """A whole number between ``minimum`` and ``maximum`` (by default the schema's ``max_amount``, the
    LEDGER_MAX_AMOUNT setting)."""

    def __init__(self, minimum: int = 1, maximum: int | None = None, **kwargs):
        super().__init__(metadata={"minimum": minimum, "maximum": MAX_AMOUNT if maximum is None else maximum,
                                   **kwargs.pop("metadata", {})}, **kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value, attr, data, **kwargs):
        maximum = self.parent.max_amount if self.maximum is None else self.maximum
        try:
            return whole_number(value, self.minimum, maximum)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def ecma_pattern(pattern: str) -> str:
    """A Python ``\\A...\\Z`` pattern as OpenAPI documents it (ECMA-262 anchors ``^...$``). Lone surrogates
    are left out of its character classes: no UTF-8 or JSON text carries one as text (shared.inputs refuses
    them at the edge), and generators such as schemathesis cannot use a pattern that names them."""
    return "^" + pattern.removeprefix("\\A").removesuffix("\\Z").replace("\\ud800-\\udfff", "") + "$"


class Identifier(fields.String):
    """An eid or spkg_id: 1-64 characters without whitespace or control characters."""

    pattern, parse = IDENTIFIER, staticmethod(identifier)

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": ecma_pattern(self.pattern.pattern), **kwargs.pop("metadata", {})},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class TradeNumber(Identifier):
    """A trade number: 1-128 characters without whitespace or control characters."""

    pattern, parse = TRADE_NUMBER, staticmethod(trade_number)


class Label(fields.String):
    """A display name: at most ``length`` characters, no control characters or lone surrogates."""

    def __init__(self, length: int, **kwargs):
        pattern = label_pattern(length)
        super().__init__(validate=validate.Regexp(pattern, error=f"must be at most {length} printable characters"),
                         metadata={"pattern": ecma_pattern(pattern.pattern), **kwargs.pop("metadata", {})}, **kwargs)


# The formats of days and moments, as the OpenAPI document states them (ASCII digits, real months, days,
# hours...; a 30 February still passes the pattern and is refused by the parser).
_YEAR, _MONTH, _DAY = "[1-9][0-9]{3}", "(0[1-9]|1[0-2])", "(0[1-9]|[12][0-9]|3[01])"
_HOURS, _MINUTES = "([01][0-9]|2[0-3])", "[0-5][0-9]"
DAY_PATTERN = f"{_YEAR}{_MONTH}{_DAY}|{_YEAR}-{_MONTH}-{_DAY}"
TIME_PATTERN = (f"{DAY_PATTERN}|{_YEAR}{_MONTH}{_DAY}{_HOURS}{_MINUTES}{_MINUTES}"
                f"|{_YEAR}-{_MONTH}-{_DAY}[T ]{_HOURS}:{_MINUTES}:{_MINUTES}")


class Day(fields.String):
    """A calendar day ``yyyymmdd`` (``yyyy-mm-dd`` also accepted) deserialized to a ``date``."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": f"^({DAY_PATTERN})$", **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = _parse(value, _DAY_FORMATS)
        if parsed is None:
            raise ValidationError("must be a date yyyymmdd")
        return parsed.date()


class BusinessTime(fields.String):
    """A local business time: a day (``yyyymmdd``) or a moment (``yyyymmddHHMMSS``, ``yyyy-mm-ddTHH:MM:SS``).

    ``day_end`` makes a bare day mean the end of that day (an inclusive ``end``).
    """

    def __init__(self, day_end: bool = False, **kwargs):
        super().__init__(metadata={"pattern": f"^({TIME_PATTERN})$", **kwargs.pop("metadata", {})}, **kwargs)
        self.day_end = day_end

    def _deserialize(self, value, attr, data, **kwargs):
        day = _parse(value, _DAY_FORMATS)
        if day is not None:
            return day + timedelta(days=1) if self.day_end else day
        moment = _parse(value, _TIME_FORMATS)
        if moment is None:
            raise ValidationError("must be yyyymmdd or yyyymmddHHMMSS")
        return moment


def _parse(value, formats) -> datetime | None:
    if not isinstance(value, str):
        return None
    for pattern in formats:
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        if parsed.strftime(pattern) == value:  # strptime alone takes "2030123" as 2030-12-03
            return parsed
    return None


class Args(Schema):
    """Request parameters; unknown ones are ignored (callers of the GET form add their own). ``max_amount``
    bounds amounts, credits and numbers of uses."""

    class Meta:
        unknown = EXCLUDE

    def __init__(self, max_amount: int = MAX_AMOUNT, **kwargs):
        super().__init__(**kwargs)
        self.max_amount = max_amount


class EidArgs(Args):
    eid = Identifier(required=True, metadata={"description": "the owner's id (userNo or openid)"})


class AccountCreateArgs(EidArgs):
    name = Label(128, required=True)
    type = Label(32, load_default="", metadata={"description": "free label of the wallet's kind"})
    credit = WholeNumber(minimum=0, load_default=0, metadata={"description": "overdraft allowed, in fen"})


class PostingArgs(EidArgs):
    trade_no = TradeNumber(required=True, metadata={"description": "the caller's trade number (idempotency key); "
                                                   "for a refund, the deduct's"})
    amount = WholeNumber(required=True, metadata={"description": "fen, a positive whole number"})


class PageArgs(Args):
    change_type = WholeNumber(minimum=0, maximum=3, load_default=None)
    start = BusinessTime(load_default=None, metadata={"description": "from (inclusive), business local time"})
    end = BusinessTime(day_end=True, load_default=None, metadata={"description": "until; a bare day is inclusive"})
    pi = WholeNumber(minimum=1, maximum=1_000_000, load_default=1, metadata={"description": "page, from 1"})
    ps = WholeNumber(minimum=1, maximum=RECORD_PAGE_MAX, load_default=20, metadata={"description": "page size"})


class RecordQueryArgs(EidArgs, PageArgs):
    change_type = WholeNumber(minimum=1, maximum=3, load_default=None, metadata={"description": "1 add, 2 deduct, 3 refund"})


class PackageArgs(EidArgs):
    spkg_id = Identifier(required=True)


class PackageCreateArgs(PackageArgs):
    name = Label(128, required=True)
    total = WholeNumber(minimum=0, required=True, metadata={"description": "initial capacity"})
    daily = WholeNumber(load_default=None, metadata={"description": "daily deduct limit; absent: none"})
    expires = Day(required=True, metadata={"description": "last usable day, yyyymmdd"})


class CapacityArgs(PackageArgs):
    trade_no = TradeNumber(required=True)
    num = WholeNumber(required=True, metadata={"description": "a positive whole number of uses"})


class PackageRecordQueryArgs(PackageArgs, PageArgs):
    change_type = WholeNumber(minimum=0, maximum=3, load_default=None,
                              metadata={"description": "0 opening, 1 add, 2 deduct, 3 refund"})


class BatchOperationSchema(Schema):
    """One operation of a batch (documentation: each is validated on its own, as the posting alone would be)."""

    op = fields.String(required=True, metadata={"enum": ["add", "deduct", "refund"]})
    eid = Identifier(required=True)
    trade_no = TradeNumber(required=True)
    amount = WholeNumber(required=True, metadata={"description": "fen, a positive whole number"})


class Operation(fields.Nested):
    """An operation of a batch, documented as :class:`BatchOperationSchema` and taken as it is: the batch
    validates and answers each operation on its own, so one bad operation never refuses the others."""

    def __init__(self, **kwargs):
        super().__init__(BatchOperationSchema, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return value


class BatchArgs(Args):
    class Meta:
        unknown = RAISE  # the body is JSON only: a field other than operations is a mistake, refused

    operations = fields.List(Operation(), required=True, validate=validate.Length(min=1),
                             metadata={"maxItems": 1000, "description": "add, deduct or refund operations "
                                       "(at most LEDGER_MAX_BATCH, 1,000 by default); each is validated and "
                                       "answered on its own"})


# Responses (documentation; bodies are built by PostgreSQL as JSON).
class AccountSchema(Schema):
    account_id = fields.Integer()
    eid = fields.String()
    name = fields.String()
    type = fields.String()
    balance = fields.Integer()
    credit = fields.Integer()
    status = fields.String(metadata={"enum": ["normal", "locked"]})
    create_time = fields.String()


class BalanceSchema(Schema):
    account_id = fields.Integer()
    eid = fields.String()
    balance = fields.Integer()
    credit = fields.Integer()


class RecordSchema(Schema):
    record_id = fields.Integer()
    account_id = fields.Integer()
    eid = fields.String()
    trade_no = fields.String()
    change_type = fields.Integer(metadata={"description": "1 add, 2 deduct, 3 refund"})
    amount = fields.Integer(metadata={"description": "fen; negative for a deduct"})
    balance = fields.Integer(metadata={"description": "the balance after this record"})
    create_time = fields.String()


class ReleaseSchema(Schema):
    eid = fields.String()
    trade_no = fields.String()
    amount = fields.Integer(metadata={"description": "the hold released (fen)"})
    released = fields.String(metadata={"enum": ["refund", "void"], "description": (
        "refund: the deduct was there and is refunded; void: there was no deduct, and none with this trade_no "
        "will ever be applied")})
    record = fields.Nested(RecordSchema, allow_none=True, metadata={"description": "the refund record (refund)"})
    create_time = fields.String()


class RecordPageSchema(Schema):
    count = fields.Integer()
    data = fields.List(fields.Nested(RecordSchema))


class PackageSchema(Schema):
    spkg_id = fields.String()
    eid = fields.String()
    name = fields.String()
    total_capacity = fields.Integer()
    total_remain = fields.Integer()
    capacity_daily = fields.Integer(allow_none=True)
    deduct_today = fields.Integer()
    expires = fields.String()
    create_time = fields.String()


class CapacitySchema(Schema):
    spkg_id = fields.String()
    total_capacity = fields.Integer()
    total_remain = fields.Integer()
    capacity_daily = fields.Integer(allow_none=True)
    deduct_today = fields.Integer()
    expires = fields.String()


class PackageRecordSchema(Schema):
    record_id = fields.Integer()
    eid = fields.String()
    spkg_id = fields.String()
    trade_no = fields.String()
    change_type = fields.Integer(metadata={"description": "0 opening, 1 add, 2 deduct, 3 refund"})
    num = fields.Integer(metadata={"description": "negative for a deduct"})
    remain = fields.Integer(metadata={"description": "total_remain after this record"})
    create_time = fields.String()


class PackageRecordPageSchema(Schema):
    count = fields.Integer()
    data = fields.List(fields.Nested(PackageRecordSchema))


class BatchResultSchema(Schema):
    status = fields.Integer()
    code = fields.Integer()
    msg = fields.String()
    record = fields.Nested(RecordSchema, allow_none=True)


class BatchResultsSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema))


class ErrorBodySchema(Schema):
    code = fields.Integer()
    msg = fields.String()

