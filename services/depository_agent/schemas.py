"""Request and response shapes of the agent's HTTP API (validation and the OpenAPI document)."""
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.web import FullMatch


REQUEST_NO_PATTERN = r"^REQ_[0-9A-F]{32}$"
USER_NO_PATTERN = r"^USR_[0-9A-F]{32}$"
REQUEST_NO = FullMatch(REQUEST_NO_PATTERN, error="must be REQ_ followed by 32 upper-case hex characters")
USER_NO = FullMatch(USER_NO_PATTERN, error="must be USR_ followed by 32 upper-case hex characters")
AMOUNT = FullMatch(r"^[0-9]{1,15}(\.[0-9]{1,2})?$", error="must be an amount in yuan such as \"100.00\"")


def _printable(value: str) -> None:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError("must not contain control characters")


def _http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(char.isspace() for char in value):
        raise ValidationError("must be an absolute http(s) URL")


def _text(pattern: str, error: str, example: str) -> fields.String:
    return fields.String(required=True, validate=FullMatch(pattern, error=error), metadata={"example": example})


class _RequestBase(Schema):
    """Fields every gateway request carries. Unknown fields are ignored: they are neither stored nor signed."""

    class Meta:
        unknown = EXCLUDE

    requestNo = fields.String(required=True, validate=REQUEST_NO, metadata={"example": "REQ_" + "0" * 32})
    userNo = fields.String(required=True, validate=USER_NO, metadata={"example": "USR_" + "0" * 32})
    callbackUrl = fields.String(required=True, validate=[validate.Length(max=1024), _http_url],
                                metadata={"example": "http://127.0.0.1:8001/#/callback"})


_CARD_NUMBER = (r"^[0-9]{8,30}$", "must be 8 to 30 digits", "6222021234567890123")
_MOBILE = (r"^\+?[0-9]{6,20}$", "must be a phone number of 6 to 20 digits", "13800138000")


class ConsumerRequestSchema(_RequestBase):
    fullname = fields.String(required=True, validate=[validate.Length(1, 64), _printable],
                             metadata={"example": "张三"})
    idNumber = _text(r"^[0-9A-Za-z]{6,32}$", "must be 6 to 32 letters or digits", "110101199003070011")
    bankCode = _text(r"^[A-Za-z0-9_]{2,20}$", "must be 2 to 20 letters, digits or _", "ICBC")
    cardNumber = _text(*_CARD_NUMBER)
    mobile = _text(*_MOBILE)
    role = fields.String(required=True, validate=validate.OneOf(["I", "B"]), metadata={"example": "I"})


class RechargeRequestSchema(_RequestBase):
    amount = fields.String(required=True, validate=AMOUNT, metadata={"example": "100.00"})


class WithdrawRequestSchema(_RequestBase):
    amount = fields.String(required=True, validate=AMOUNT, metadata={"example": "100.00"})
    commission = fields.String(required=True, validate=AMOUNT, metadata={"example": "1.00"})
    cardNumber = _text(*_CARD_NUMBER)
    mobile = _text(*_MOBILE)


class GatewayRequestSchema(Schema):
    serviceName = fields.String(required=True)
    platformNo = fields.String(required=True)
    reqData = fields.String(required=True, metadata={"description": "standard Base64 of the UTF-8 JSON request"})
    signature = fields.String(required=True, metadata={"description": "standard Base64 RSASSA-PKCS1-v1_5 signature"})
    depositoryUrl = fields.String(required=True)


class RecordSchema(Schema):
    requestNo = fields.String(required=True)
    requestType = fields.String(required=True)
    serviceName = fields.String(required=True)
    objectType = fields.String(required=True)
    objectId = fields.String(required=True)
    userNo = fields.String(required=True)
    amount = fields.String(allow_none=True, metadata={"description": "yuan, RECHARGE and WITHDRAW"})
    commission = fields.String(allow_none=True, metadata={"description": "yuan, WITHDRAW"})
    requestStatus = fields.Integer(required=True, metadata={"description": "0 not synced, 1 synced, 2 failed"})
    resultSource = fields.String(allow_none=True, metadata={"description": "NOTIFICATION, QUERY or EXPIRED"})
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


class RecordResponseSchema(_RestResponse):
    result = fields.Nested(RecordSchema, required=True)


class NotificationSchema(Schema):
    """The four parameters of a bank notification (query string, form or JSON body)."""

    class Meta:
        unknown = EXCLUDE

    serviceName = fields.String(required=True, validate=validate.OneOf(["PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"]))
    platformNo = fields.String(required=True, validate=validate.Length(1, 64))
    reqData = fields.String(required=True, validate=validate.Length(1, 16384))
    signature = fields.String(required=True, validate=validate.Length(1, 4096))
