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


def _callback_schema(name: str, command: Command, carried: tuple[str, ...]) -> type[ma.Schema]:
    """A schema with the command's signed fields, the carried (unsigned) ones and ChkValue."""
    attrs = {field: fields.String(metadata={"description": "signed"}) for field in command.signed_fields}
    attrs.update({field: fields.String(metadata={"description": "carried, not signed"}) for field in carried})
    attrs["ChkValue"] = fields.String(metadata={"description": "upper-case hex RSA signature of the signed fields"})
    return type(name, (_CallbackSchema,), attrs)


UserRegisterSchema = _callback_schema("UserRegisterCallback", USER_REGISTER, ("RespDesc",))
NetSaveSchema = _callback_schema("NetSaveCallback", NET_SAVE, ("RespDesc", "GateBusiId", "FeeAmt"))
