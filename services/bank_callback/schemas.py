"""OpenAPI schemas of the callbacks: every Huifu field is a string; unknown form fields are kept."""
import marshmallow as ma
from marshmallow import fields

from bank_callback.huifu import NET_SAVE, USER_REGISTER, Command

RECEIPT = {"type": "string", "example": "RECV_ORD_ID_201609250000000001"}


class RefusalSchema(ma.Schema):
    """The JSON reason of a refused callback."""

    code = fields.Integer(required=True)
    msg = fields.String(required=True)


class _CallbackSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE


# The one format of each signed field (bank_callback.huifu.FORMATS checks them).
SIGNED_FORMATS = {
    "CmdId": "the endpoint's command", "RespCode": "a known code: 000 success, 351, 999",
    "MerCustId": "this platform's merchant customer id", "UsrId": "openid: 1 to 25 letters, digits, '_' or '-'",
    "UsrCustId": "16 digits (may be empty in a failed UserRegister)", "OrdId": "1 to 30 digits",
    "OrdDate": "yyyyMMdd, within a day of today (China Standard Time)",
    "TransAmt": "yuan with exactly two decimals, no leading zero, above 0.00 and at most the maximum",
    "TrxId": "1 to 18 digits", "BgRetUrl": "exactly the configured background callback URL",
    "RetUrl": "exactly the configured page callback URL", "MerPriv": "at most 120 printable characters",
}


def _callback_schema(name: str, command: Command, carried: tuple[str, ...]) -> type[ma.Schema]:
    """A schema with the command's signed fields, the carried (unsigned) ones and ChkValue."""
    attrs = {field: fields.String(metadata={"description": f"signed: {SIGNED_FORMATS[field]}"})
             for field in command.signed_fields}
    attrs.update({field: fields.String(metadata={"description": "carried, not signed"}) for field in carried})
    attrs["ChkValue"] = fields.String(metadata={"description": "upper-case hex RSA signature of the signed fields joined without separators"})
    return type(name, (_CallbackSchema,), attrs)


UserRegisterSchema = _callback_schema("UserRegisterCallback", USER_REGISTER, ("RespDesc",))
NetSaveSchema = _callback_schema("NetSaveCallback", NET_SAVE, ("RespDesc", "GateBusiId", "FeeAmt"))
