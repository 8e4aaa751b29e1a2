"""Request and response shapes of the agent's HTTP API: the same validators check a request and write
the OpenAPI document, so the document states every rule a request must meet (docs/protocols.md).

Two rules depend on the settings: an amount's range (MAX_AMOUNT_FEN) and the platformNo of a
notification (PLATFORM_NO); :func:`configured_rules` writes them into the document of the app that
enforces them.
"""
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import contract
from shared.contract import GATEWAY_SERVICES, REQUEST_NO_PATTERN, REQUEST_NO_RULE, USER_NO_PATTERN, USER_NO_RULE
from shared.money import yuan_pattern
from shared.signing import BASE64_PATTERN
from shared.web import FullMatch

from depository_agent.notifications import RESULT_SOURCES
from depository_agent.wanxin import SERVICE_NAMES

REQUEST_NO = FullMatch(f"^{REQUEST_NO_PATTERN}$", error=f"must be {REQUEST_NO_RULE}")
USER_NO = FullMatch(f"^{USER_NO_PATTERN}$", error=f"must be {USER_NO_RULE}")
# An amount's form; its range (above zero, at most MAX_AMOUNT_FEN) is checked as the request is built
# (gateway_requests.build_record) and documented by configured_rules.
AMOUNT = FullMatch(r"^[0-9]{1,15}(\.[0-9]{1,2})?$", error="must be an amount in yuan such as \"100.00\"")
# http or https (any case), then a host (a bracketed one must be an IPv6 address); no space or control
# character anywhere (spelled out rather than \s, which means other characters in other regex engines).
_NOT_URL = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_HOST = rf"[^{_NOT_URL}/?#\[\]]"
CALLBACK_URL_PATTERN = (rf"^[Hh][Tt][Tt][Pp][Ss]?://({_HOST}+|{_HOST}*\[[0-9A-Fa-f:.]+\]{_HOST}*)"
                        rf"([/?#][^{_NOT_URL}]*)?$")
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"
BASE64 = FullMatch(f"^{BASE64_PATTERN}$", error="must be standard, padded Base64 (a space stands for a +)")


def _http_url(value: str) -> None:
    """The URL must also split as one (Python refuses a bracketed host that is no IPv6 address)."""
    try:
        urlsplit(value)
    except ValueError:
        raise ValidationError("must be an absolute http(s) URL") from None


def _text(pattern: str, error: str, example: str) -> fields.String:
    return fields.String(required=True, validate=FullMatch(pattern, error=error), metadata={"example": example})


def _amount(example: str, rule: str) -> fields.String:
    return fields.String(required=True, validate=AMOUNT, metadata={"example": example, "configured": rule})


class _RequestBase(Schema):
    """Fields every gateway request carries. Unknown fields are ignored: they are neither stored nor signed."""

    class Meta:
        unknown = EXCLUDE

    requestNo = fields.String(required=True, validate=REQUEST_NO, metadata={"example": "REQ_" + "0" * 32})
    userNo = fields.String(required=True, validate=USER_NO, metadata={"example": "USR_" + "0" * 32})
    callbackUrl = fields.String(
        required=True, metadata={"example": "http://127.0.0.1:8001/#/callback"},
        validate=[validate.Length(max=1024),
                  FullMatch(CALLBACK_URL_PATTERN, error="must be an absolute http(s) URL"), _http_url])


_CARD_NUMBER = (r"^[0-9]{8,30}$", "must be 8 to 30 digits", "6222021234567890123")
_MOBILE = (r"^\+?[0-9]{6,20}$", "must be a phone number of 6 to 20 digits", "13800138000")


class ConsumerRequestSchema(_RequestBase):
    fullname = fields.String(required=True, metadata={"example": "张三"}, validate=FullMatch(
        PRINTABLE_PATTERN, error="must be 1 to 64 characters without control characters"))
    idNumber = _text(r"^[0-9A-Za-z]{6,32}$", "must be 6 to 32 letters or digits", "110101199003070011")
    bankCode = _text(r"^[A-Za-z0-9_]{2,20}$", "must be 2 to 20 letters, digits or _", "ICBC")
    cardNumber = _text(*_CARD_NUMBER)
    mobile = _text(*_MOBILE)
    role = fields.String(required=True, validate=validate.OneOf(["I", "B"]), metadata={"example": "I"})


class RechargeRequestSchema(_RequestBase):
    amount = _amount("100.00", "amount")


class WithdrawRequestSchema(_RequestBase):
    amount = _amount("50.00", "amount")
    commission = _amount("1.00", "commission")
    cardNumber = _text(*_CARD_NUMBER)
    mobile = _text(*_MOBILE)


# --- the transaction services (section 9): bodies of the /l/ endpoints and their answer --------------------
_PROJECT_NO = (f"^{contract.PROJECT_NO_PATTERN}$", "must be 1 to 64 letters, digits, _ or -", "PRJ_0001")


def _one_of(values: tuple, example: str) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf(values), metadata={"example": example})


def _distinct(key: str):
    """A list validator: no two entries with the same ``key`` (the bank takes each freeze or funder once)."""
    def check(entries: list) -> None:
        keys = [entry.get(key) for entry in entries]
        if len(set(keys)) != len(keys):
            raise ValidationError(f"each {key} may appear once")
    return check


def _details(schema: type, key: str) -> fields.List:
    return fields.List(fields.Nested(schema), required=True,
                       validate=[validate.Length(1, contract.TRANSACTION_DETAILS_MAX), _distinct(key)])


class _TransactionBase(Schema):
    """Every transaction service's body: requestNo first. Unknown fields are ignored: neither stored nor signed."""

    class Meta:
        unknown = EXCLUDE

    requestNo = fields.String(required=True, validate=REQUEST_NO, metadata={"example": "REQ_" + "0" * 32})


class ProjectRequestSchema(_TransactionBase):
    projectNo = _text(*_PROJECT_NO)
    userNo = fields.String(required=True, validate=USER_NO, metadata={"example": "USR_" + "0" * 32,
                                                                      "description": "the borrower"})
    projectAmount = _amount("10000.00", "amount")
    projectName = _text(r"^[^\x00-\x1f\x7f]{1,100}$", "must be 1 to 100 characters without control characters",
                        "消费贷 2026-001")
    projectPeriod = fields.Integer(required=True, strict=True,
                                   validate=validate.Range(1, contract.PROJECT_PERIOD_MAX),
                                   metadata={"example": 12, "description": "months, a JSON integer"})
    annualRate = _text(f"^({contract.ANNUAL_RATE_PATTERN})$", "must be a fraction from 0 to 1 with at most 6 "
                       "decimals and no trailing zero, such as \"0.18\"", "0.18")
    repaymentWay = _one_of(contract.REPAYMENT_WAYS, contract.FIXED_REPAYMENT)


class ProjectStatusRequestSchema(_TransactionBase):
    projectNo = _text(*_PROJECT_NO)
    projectStatus = _one_of(contract.PROJECT_STATUSES, contract.REPAYING)


class PreTransactionRequestSchema(_TransactionBase):
    userNo = fields.String(required=True, validate=USER_NO, metadata={"example": "USR_" + "0" * 32})
    amount = _amount("100.00", "amount")
    bizType = _one_of(contract.BIZ_TYPES, contract.TENDER)
    projectNo = _text(*_PROJECT_NO)


class CancelPreTransactionRequestSchema(_TransactionBase):
    preRequestNo = fields.String(required=True, validate=REQUEST_NO, metadata={"example": "REQ_" + "1" * 32})
    userNo = fields.String(required=True, validate=USER_NO, metadata={"example": "USR_" + "0" * 32})
    amount = _amount("100.00", "amount")


class LoanDetailSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    preRequestNo = fields.String(required=True, validate=REQUEST_NO, metadata={
        "example": "REQ_" + "1" * 32, "description": "a TENDER freeze of this project"})
    amount = _amount("100.00", "amount")


class RepaymentDetailSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    userNo = fields.String(required=True, validate=USER_NO, metadata={"example": "USR_" + "1" * 32,
                                                                      "description": "a funder"})
    amount = _amount("100.00", "amount")
    interest = _amount("1.50", "commission")


class LoanRequestSchema(_TransactionBase):
    projectNo = _text(*_PROJECT_NO)
    commission = _amount("2.00", "commission")
    details = _details(LoanDetailSchema, "preRequestNo")


class RepaymentRequestSchema(_TransactionBase):
    preRequestNo = fields.String(required=True, validate=REQUEST_NO, metadata={
        "example": "REQ_" + "2" * 32, "description": "the borrower's REPAYMENT freeze"})
    projectNo = _text(*_PROJECT_NO)
    commission = _amount("1.00", "commission")
    details = _details(RepaymentDetailSchema, "userNo")


class TransactionResultSchema(Schema):
    requestNo = fields.String(required=True)
    serviceName = fields.String(required=True, validate=validate.OneOf(contract.TRANSACTION_SERVICES))
    status = fields.Integer(required=True, validate=validate.OneOf([0, 1, 2]),
                            metadata={"description": "1 success, 2 failure (the bank's), 0 the bank has not answered"})
    respCode = fields.String(required=True, metadata={"description": "the bank's result code; empty while status 0"})
    respMsg = fields.String(required=True)


class GatewayRequestSchema(Schema):
    serviceName = fields.String(required=True, validate=validate.OneOf(GATEWAY_SERVICES))
    platformNo = fields.String(required=True)
    reqData = fields.String(required=True, metadata={"description": "standard Base64 of the UTF-8 JSON request"})
    signature = fields.String(required=True, metadata={"description": "standard Base64 RSASSA-PKCS1-v1_5 signature"})
    depositoryUrl = fields.String(required=True)


class RecordSchema(Schema):
    requestNo = fields.String(required=True)
    requestType = fields.String(required=True, validate=validate.OneOf(list(SERVICE_NAMES)))
    serviceName = fields.String(required=True, validate=validate.OneOf(contract.RESULT_SERVICES))
    objectType = fields.String(required=True)
    objectId = fields.String(required=True)
    userNo = fields.String(required=True, allow_none=True, metadata={
        "description": "none for MODIFY_PROJECT, CONFIRM_LOAN and CONFIRM_REPAYMENT"})
    amount = fields.String(allow_none=True, metadata={
        "description": "yuan: a recharge's or withdraw's amount, a project's projectAmount, a freeze's or cancel's "
                       "amount, what a confirmation pays out (the sum of its details' amount and interest)"})
    commission = fields.String(allow_none=True, metadata={"description": "yuan: WITHDRAW, CONFIRM_LOAN, "
                                                                         "CONFIRM_REPAYMENT"})
    requestStatus = fields.Integer(required=True, validate=validate.OneOf([0, 1, 2]),
                                   metadata={"description": "0 not synced, 1 synced, 2 failed"})
    resultSource = fields.String(allow_none=True, validate=validate.OneOf(RESULT_SOURCES),
                                 metadata={"description": ", ".join(RESULT_SOURCES)})
    confirmDate = fields.DateTime(allow_none=True)
    requestData = fields.Dict(required=True)
    responseData = fields.Dict(allow_none=True)
    createDate = fields.DateTime(required=True)
    updateDate = fields.DateTime(required=True)


class _RestResponse(Schema):
    code = fields.Integer(required=True, metadata={"example": 0})
    msg = fields.String(required=True, metadata={"example": "success"})


class GatewayResponseSchema(_RestResponse):
    result = fields.Nested(GatewayRequestSchema, required=True)


class TransactionResponseSchema(_RestResponse):
    result = fields.Nested(TransactionResultSchema, required=True)


class RecordResponseSchema(_RestResponse):
    result = fields.Nested(RecordSchema, required=True)


class NotificationSchema(Schema):
    """The four parameters of a bank notification (query string, form or JSON body)."""

    class Meta:
        unknown = EXCLUDE

    serviceName = fields.String(required=True, validate=validate.OneOf(GATEWAY_SERVICES))
    platformNo = fields.String(required=True, validate=validate.Length(1, 64), metadata={"configured": "platformNo"})
    reqData = fields.String(required=True, validate=[validate.Length(1, 16384), BASE64],
                            metadata={"description": "standard Base64 of the bank's UTF-8 JSON result"})
    signature = fields.String(required=True, validate=[validate.Length(1, 4096), BASE64],
                              metadata={"description": "standard Base64 of the bank's RSASSA-PKCS1-v1_5 signature "
                                                       "over the reqData bytes"})


RECORD_PATH_PARAMETER = {"in": "path", "name": "request_no", "required": True,
                         "schema": {"type": "string", "pattern": f"^{REQUEST_NO_PATTERN}$"}}


def configured_rules(settings: dict):
    """An apispec attribute function (``api.ma_plugin.converter.add_attribute_function``) writing the rules
    that come from ``settings`` into the document: the exact range of an amount or commission
    (MAX_AMOUNT_FEN; a commission may be zero) and the one platformNo a notification may carry."""
    rules = {"amount": {"pattern": yuan_pattern(settings["MAX_AMOUNT_FEN"])},
             "commission": {"pattern": yuan_pattern(settings["MAX_AMOUNT_FEN"], zero=True)},
             "platformNo": {"enum": [settings["PLATFORM_NO"]]}}

    def configured_rules(converter, field, **kwargs) -> dict:
        return rules.get(field.metadata.get("configured"), {})

    return configured_rules
