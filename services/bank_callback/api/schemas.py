"""The callbacks' forms and answers in the OpenAPI document, with every rule the service enforces.

The fields are read by :mod:`bank_callback.api.receiving` and checked by :mod:`bank_callback.huifu`
(whose patterns these schemas reuse); these schemas describe them for clients and fuzzers. Every
Huifu field is a string; fields that are neither signed nor listed here are accepted and kept as
evidence. The values that come from this app's settings (the merchant
id, the callback URLs, PLATFORM_NO, MAX_AMOUNT_FEN, ChkValue's length) are written into each app's
document by :func:`document_settings`.
"""
from typing import Callable

import marshmallow as ma
from flask_smorest import Api
from marshmallow import fields, validate

from shared.money import format_fen
from shared.web import Blueprint, ErrorSchema

from bank_callback.api.receiving import FORM, MAX_FIELDS
from bank_callback.huifu import MER_PRIV_MAX, NET_SAVE, PATTERNS, USER_REGISTER, Command, Verifier

RECEIPT = {"type": "string", "pattern": r"^RECV_ORD_ID_[0-9]{1,18}$", "example": "RECV_ORD_ID_201609250000000001"}
LOCATION = {"Location": {"description": "<frontend>#/<route>?RespCode=..&RespDesc=.. (percent-encoded)",
                         "schema": {"type": "string"}}}
# Metadata key of a field whose OpenAPI properties depend on the app's settings: a function of the
# app's Verifier answering those properties.
SETTINGS = "bank_callback_settings"


def _whole(pattern: str) -> validate.Regexp:
    """A pattern the whole value matches (OpenAPI patterns are unanchored)."""
    return validate.Regexp(f"^(?:{pattern})$")


def _signed(description: str, *validators, required: bool = True,
            settings: Callable[[Verifier], dict] | None = None) -> fields.String:
    metadata = {"description": f"signed: {description}"}
    if settings:
        metadata[SETTINGS] = settings
    return fields.String(required=required, validate=list(validators), metadata=metadata)


def _carried() -> fields.String:
    return fields.String(metadata={"description": "carried, not signed: stored as evidence, never decides anything"})


def _cmd_id(command: Command) -> fields.String:
    return _signed("the endpoint's command", validate.OneOf([command.name]))


def _resp_code(command: Command) -> fields.String:
    codes = ", ".join(f"{code} {text}" for code, text in command.resp_codes.items())
    return _signed(f"a code this command carries ({codes})", validate.OneOf(list(command.resp_codes)))


def _mer_cust_id() -> fields.String:
    return _signed("this platform's merchant customer id (HUIFU_MER_CUST_ID)",
                   settings=lambda verifier: {"enum": [verifier.mer_cust_id]})


def _trx_id() -> fields.String:
    return _signed("the bank transaction: 1 to 18 ASCII digits", _whole(PATTERNS["TrxId"]))


def _callback_url(command: Command, page: bool) -> fields.String:
    path = command.page_path if page else command.background_path
    return _signed(f"exactly <HUIFU_CALLBACK_URL>{path}", settings=lambda verifier: {"enum": [
        verifier.callback_url + path]})


def _trans_amt() -> fields.String:
    rule = "yuan in ASCII digits with exactly two decimals and no leading zero (100.00, 0.01), above 0.00 and at most {}"
    return _signed(rule.format("MAX_AMOUNT_FEN"), _whole(PATTERNS["TransAmt"]), settings=lambda verifier: {
        "description": "signed: " + rule.format(f"{format_fen(verifier.max_fen)} (MAX_AMOUNT_FEN)")})


def _mer_priv() -> fields.String:
    # A control character is never printable; the pattern says that much, the description the rest.
    return _signed(f"at most {MER_PRIV_MAX} printable characters (Python's str.isprintable: no control,"
                   " format, private-use or unassigned characters, no separator but the space)",
                   validate.Length(max=MER_PRIV_MAX), _whole(r"[^\x00-\x1f\x7f-\x9f]*"), required=False)


def _chk_value() -> fields.String:
    def length(verifier: Verifier) -> dict:
        digits = verifier.chk_value_length
        return {"pattern": f"^[0-9A-F]{{{digits}}}$", "minLength": digits, "maxLength": digits}
    return fields.String(required=True, metadata={SETTINGS: length, "description": (
        "upper-case hex RSA signature (RSASSA-PKCS1-v1_5, HUIFU_SIGN_HASH) by the bank's Huifu key over the"
        " signed fields in their order, joined without separators; key bits / 4 digits")})


class UserRegisterForm(ma.Schema):
    """A UserRegister callback: the bank opened (RespCode 000) or did not open a customer for an openid."""

    class Meta:
        unknown = ma.INCLUDE

    CmdId = _cmd_id(USER_REGISTER)
    RespCode = _resp_code(USER_REGISTER)
    MerCustId = _mer_cust_id()
    UsrId = _signed("the openid: 1 to 25 ASCII letters, digits, '_' or '-'; not PLATFORM_NO (the platform's own"
                    " ledger account)", _whole(PATTERNS["UsrId"]),
                    settings=lambda verifier: {"not": {"enum": [verifier.platform_no]}})
    UsrCustId = _signed("the bank customer: 16 ASCII digits; empty or absent only when RespCode is not 000 (the"
                        " bank opened no customer)", _whole(f"(?:{PATTERNS['UsrCustId']})?"), required=False)
    BgRetUrl = _callback_url(USER_REGISTER, page=False)
    TrxId = _trx_id()
    RetUrl = _callback_url(USER_REGISTER, page=True)
    MerPriv = _mer_priv()
    RespDesc = _carried()
    ChkValue = _chk_value()


class NetSaveForm(ma.Schema):
    """A NetSave callback: a recharge of a bank customer's balance, successful (RespCode 000) or not."""

    class Meta:
        unknown = ma.INCLUDE

    CmdId = _cmd_id(NET_SAVE)
    RespCode = _resp_code(NET_SAVE)
    MerCustId = _mer_cust_id()
    UsrCustId = _signed("the bank customer: 16 ASCII digits", _whole(PATTERNS["UsrCustId"]))
    OrdId = _signed("the platform's order: 1 to 30 ASCII digits", _whole(PATTERNS["OrdId"]))
    OrdDate = _signed("yyyyMMdd, a real date at most one day from today in China Standard Time",
                      _whole(r"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"))
    TransAmt = _trans_amt()
    TrxId = _trx_id()
    RetUrl = _callback_url(NET_SAVE, page=True)
    BgRetUrl = _callback_url(NET_SAVE, page=False)
    MerPriv = _mer_priv()
    RespDesc = _carried()
    GateBusiId = _carried()
    FeeAmt = _carried()
    ChkValue = _chk_value()


def form_body(schema: type[ma.Schema]) -> dict:
    """The OpenAPI request body of a callback sent as a form (its fields may come in the query string
    instead, each name once in all)."""
    return {"required": True, "content": {FORM: {"schema": schema}}, "description": (
        f"the callback's fields, at most {MAX_FIELDS} parameters; the query string may carry them instead, each"
        " name once in the query and the body together")}


def query(schema: type[ma.Schema]) -> list[dict]:
    """The OpenAPI parameters of a callback sent in the query string."""
    return [{"in": "query", "schema": schema}]


def refusals(bp: Blueprint, form: bool = True) -> Callable:
    """Document the refusals of a callback operation: 400, 409 and 503, and 415 where it takes a form body."""
    answers = [(400, "not verified: malformed, a signed field out of its format (911), a wrong ChkValue (910) or"
                     " signed bytes that read two ways (912)"),
               (409, "contradicts what is stored (an anomaly: TrxId or OrdId reused, binding conflict)"),
               (503, "database unavailable; retry")]
    if form:
        answers.append((415, "a body that is not a UTF-8 form"))

    def document(view):
        for status, description in answers:
            view = bp.alt_response(status, schema=ErrorSchema, description=description)(view)
        return view
    return document


def document_settings(api: Api, verifier: Verifier) -> None:
    """Write this app's settings into its OpenAPI document: the properties of every field marked with
    :data:`SETTINGS`, computed from ``verifier``. Call it before the blueprints are registered."""
    def configured(converter, field, **kwargs) -> dict:
        describe = field.metadata.get(SETTINGS)
        return describe(verifier) if describe else {}

    api.ma_plugin.converter.add_attribute_function(configured)
