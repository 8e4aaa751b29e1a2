"""Marshmallow schemas of the sandbox's endpoints (they make the OpenAPI document)."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import contract

from bank_sandbox.faults import REORDER_MODES

OUTCOME = fields.String(load_default="success", validate=validate.OneOf(("success", "fail")),
                        metadata={"description": "success (default) or fail: the user declines at the bank"})


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def _text(required: bool = True, maximum: int = 8192, **kwargs):
    return fields.String(required=required, validate=[validate.Length(max=maximum), _no_nul], **kwargs)


class ErrorReply(Schema):
    code = fields.Integer(required=True)
    msg = fields.String(required=True)


class GatewayQuery(Schema):
    serviceName = _text(maximum=64)
    platformNo = _text(maximum=64)
    reqData = _text()
    signature = _text(maximum=2048)


class GatewayForm(Schema):
    class Meta:
        unknown = EXCLUDE

    requestNo = _text(maximum=64)
    token = _text(maximum=128)
    action = fields.String(load_default="confirm", validate=validate.OneOf(("confirm", "cancel")))
    password = _text(required=False, maximum=256, load_default="")
    passwordConfirm = _text(required=False, maximum=256, load_default="")


class ConfirmRequest(Schema):
    platformNo = _text(maximum=64)
    reqData = _text()
    signature = _text(maximum=2048)
    password = _text(maximum=256)
    outcome = OUTCOME
    serviceName = fields.String(validate=validate.OneOf(contract.GATEWAY_SERVICES),
                                metadata={"description": "optional; inferred from reqData when absent"})


class Confirmation(Schema):
    requestNo = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "1 success, 2 failure"})
    code = fields.String(required=True, metadata={"description": "the bank's respCode, 00000 on success"})
    msg = fields.String(required=True)
    redirectUrl = fields.String(required=True)


class Faults(Schema):
    duplicates = fields.Integer(strict=True, metadata={"description": "extra sends of each delivered notification"})
    duplicateProbability = fields.Float(metadata={"description": "chance (0..1) a delivery gets the duplicates"})
    delaySeconds = fields.Float(metadata={"description": "new deliveries wait this long before the first attempt"})
    dropFirst = fields.Integer(strict=True, metadata={"description": "first attempts counted as failed, not sent"})
    dropProbability = fields.Float(metadata={"description": "chance (0..1) a delivery gets the dropped attempts"})
    reorder = fields.String(validate=validate.OneOf(REORDER_MODES))
    reorderBatch = fields.Integer(strict=True, metadata={"description": "hold first attempts until this many wait"})
    reorderHoldSeconds = fields.Float(metadata={"description": "or until the oldest has waited this long"})


class FaultsView(Faults):
    source = fields.String(metadata={"description": "configuration, or api when POST /sandbox/faults set them"})


class ServiceQuery(Schema):
    platformNo = _text(maximum=64)
    requestNo = _text(maximum=64)


class SignedMessage(Schema):
    serviceName = fields.String(required=True)
    platformNo = fields.String(required=True)
    reqData = fields.String(required=True)
    signature = fields.String(required=True)


class Balance(Schema):
    userNo = fields.String(required=True)
    balance = fields.String(required=True, metadata={"description": "the depository account balance in yuan"})


class StatementQuery(Schema):
    platformNo = _text(maximum=64)
    date = fields.Date(required=True, format="%Y-%m-%d")


class StatementLine(Schema):
    requestNo = fields.String(required=True)
    serviceName = fields.String(required=True)
    userNo = fields.String(required=True)
    amount = fields.String(required=True)
    commission = fields.String(required=True)
    status = fields.Integer(required=True)
    time = fields.String(required=True)


class Statement(Schema):
    platformNo = fields.String(required=True)
    date = fields.String(required=True)
    count = fields.Integer(required=True)
    transactions = fields.List(fields.Nested(StatementLine), required=True)


class HuifuRegister(Schema):
    usrId = _text(maximum=64)
    usrName = _text(required=False, maximum=64, load_default="")
    merPriv = _text(required=False, maximum=120, load_default="")
    outcome = OUTCOME


class HuifuNetsave(Schema):
    usrCustId = _text(maximum=16)
    amount = fields.Raw(required=True, metadata={"description": "yuan as a decimal string, e.g. \"100.00\""})
    ordId = _text(required=False, maximum=64)
    merPriv = _text(required=False, maximum=120, load_default="")
    outcome = OUTCOME


class HuifuAnswer(Schema):
    usrId = fields.String()
    usrCustId = fields.String()
    ordId = fields.String()
    trxId = fields.String(required=True)
    respCode = fields.String(required=True)
    respDesc = fields.String(required=True)
    pageCallbackUrl = fields.String(required=True)
