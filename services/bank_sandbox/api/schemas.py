"""Marshmallow schemas of the sandbox's endpoints: the only place their inputs and answers are written.

They make the OpenAPI document, which states every rule an input must meet, so that a client generated
from it sends what the bank accepts. Most rules are checked where the bank's other code checks them
(the use cases, with their own messages); the document takes their patterns and ranges from there.
Where a rule depends on the configuration (the one platformNo, the largest amount), the field carries a
``from_config`` builder that :func:`document_settings` applies when the app is built.
"""
from flask_smorest import Api
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import contract

from bank_sandbox.faults import LOSE_MODES, NUMBER_RANGES, REORDER_MODES, WHOLE_RANGES

FROM_CONFIG = "from_config"
NO_NUL = "^[^\\u0000]*$"  # every service refuses NUL in any text (shared.inputs)
# Exactly the standard, padded Base64 the bank reads (shared.signing): the spare bits of the last
# character before the padding are zero, so no other text decodes to the same bytes.
STANDARD_BASE64 = ("^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/][AQgw]==|"
                   "[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)$")
# A subset of the printable characters Huifu's MerPriv may hold: the visible ASCII ones and the space.
PRINTABLE_ASCII = "^[\\u0020-\\u007e]*$"

OUTCOME = fields.String(load_default="success", validate=validate.OneOf(("success", "fail")),
                        metadata={"description": "success (default) or fail: the user declines at the bank"})


def document_settings(api: Api, config: dict) -> None:
    """Let the OpenAPI document state the rules the configuration sets (call before registering blueprints)."""
    def from_config(converter, field, **kwargs) -> dict:
        build = field.metadata.get(FROM_CONFIG)
        return build(config) if build else {}

    api.ma_plugin.converter.add_attribute_function(from_config)
    # An empty change of the fault knobs is refused: name at least one.
    api.spec.components.schema("Faults", {"minProperties": 1}, schema=Faults)


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def _text(required: bool = True, maximum: int = 8192, pattern: str = NO_NUL, **kwargs):
    """A string field of at most ``maximum`` characters; ``pattern`` is what the document says it matches."""
    metadata = {"pattern": pattern, **kwargs.pop("metadata", {})}
    return fields.String(required=required, validate=[validate.Length(max=maximum), _no_nul], metadata=metadata,
                         **kwargs)


def _platform_no():
    return _text(maximum=64, metadata={"description": "the platform's number (PLATFORM_NO)",
                                       FROM_CONFIG: lambda config: {"enum": [config["PLATFORM_NO"]]}})


def _base64(maximum: int, description: str):
    return _text(maximum=maximum, pattern=STANDARD_BASE64, metadata={"description": description})


def _service_name(required: bool, description: str):
    return fields.String(required=required, validate=validate.OneOf(contract.GATEWAY_SERVICES),
                         metadata={"description": description})


def _range(low, high) -> dict:
    return {"minimum": low, "maximum": high}


class ErrorReply(Schema):
    code = fields.Integer(required=True)
    msg = fields.String(required=True)
    respCode = fields.String(metadata={"description": "the bank's result code of a refusal that has one: "
                                                      "20007, the request expired"})


class GatewayQuery(Schema):
    serviceName = _service_name(True, "the service the signed request is for")
    platformNo = _platform_no()
    reqData = _base64(8192, "standard Base64 of the request's JSON, signed by the platform")
    signature = _base64(2048, "standard Base64 of the platform's RSA signature over reqData's bytes")


class GatewayForm(Schema):
    class Meta:
        unknown = EXCLUDE

    requestNo = _text(maximum=64)
    token = _text(maximum=128, metadata={"description": "the form token of the page the bank showed"})
    action = fields.String(load_default="confirm", validate=validate.OneOf(("confirm", "cancel")))
    password = _text(required=False, maximum=256, load_default="")
    passwordConfirm = _text(required=False, maximum=256, load_default="")


class ConfirmRequest(Schema):
    platformNo = _platform_no()
    reqData = _base64(8192, "standard Base64 of the request's JSON, signed by the platform")
    signature = _base64(2048, "standard Base64 of the platform's RSA signature over reqData's bytes")
    password = _text(maximum=256, metadata={"description": "the user's transaction password (a new one, 6 to 32 "
                                                           "characters, for PERSONAL_REGISTER)"})
    outcome = OUTCOME
    serviceName = _service_name(False, "optional; the one service whose fields reqData has when absent")


class Confirmation(Schema):
    requestNo = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "1 success, 2 failure"})
    code = fields.String(required=True, metadata={"description": "the bank's respCode, 00000 on success"})
    msg = fields.String(required=True)
    redirectUrl = fields.String(required=True)


def _whole_knob(name: str, description: str):
    return fields.Integer(strict=True, metadata={"description": description, **_range(*WHOLE_RANGES[name])})


def _number_knob(name: str, description: str):
    return fields.Float(metadata={"description": description, **_range(*NUMBER_RANGES[name])})


class Faults(Schema):
    duplicates = _whole_knob("duplicates", "extra sends of each delivered notification")
    duplicateProbability = _number_knob("duplicateProbability", "chance a delivery gets the duplicates")
    delaySeconds = _number_knob("delaySeconds", "new deliveries wait this long before the first attempt")
    dropFirst = _whole_knob("dropFirst", "first attempts counted as failed, not sent")
    dropProbability = _number_knob("dropProbability", "chance a delivery gets the dropped attempts")
    reorder = fields.String(validate=validate.OneOf(REORDER_MODES))
    reorderBatch = _whole_knob("reorderBatch", "hold first attempts until this many wait")
    reorderHoldSeconds = _number_knob("reorderHoldSeconds", "or until the oldest has waited this long")
    serviceDelaySeconds = _number_knob("serviceDelaySeconds", "POST /service: after committing a new result, wait "
                                                              "this long before answering")
    serviceLoseAnswer = fields.String(validate=validate.OneOf(LOSE_MODES), metadata={
        "description": "POST /service: after committing a new result (and the delay), close the connection "
                       "without an answer, or answer 502 (error)"})
    serviceFaultProbability = _number_knob("serviceFaultProbability", "chance a new result gets the answer faults")


class FaultsView(Faults):
    source = fields.String(metadata={"description": "configuration, or api when POST /sandbox/faults set them"})


class ServiceQuery(Schema):
    platformNo = _platform_no()
    requestNo = _text(maximum=64)


class ServiceForm(Schema):
    serviceName = fields.String(required=True, validate=validate.OneOf(contract.TRANSACTION_SERVICES))
    platformNo = _platform_no()
    reqData = _base64(32768, "standard Base64 of the request's JSON, signed by the platform")
    signature = _base64(2048, "standard Base64 of the platform's RSA signature over reqData's bytes")


class SignedAnswer(Schema):
    respData = fields.String(required=True, metadata={
        "description": "standard Base64 of the result JSON {requestNo, respCode, respMsg, status}"})
    signature = fields.String(required=True, metadata={
        "description": "standard Base64 of the bank's RSA signature over respData's bytes"})


class ServiceRefusal(Schema):
    respData = fields.String(metadata={"description": "signed refusals (20007, 00003): as in the 200 answer"})
    signature = fields.String()
    code = fields.Integer(metadata={"description": "unsigned refusals: not the platform's request for serviceName"})
    msg = fields.String()


class SignedUnknown(SignedAnswer):
    code = fields.Integer(metadata={"description": "908, unsigned: only for callers that do not verify the answer"})
    msg = fields.String()


class SignedMessage(Schema):
    serviceName = fields.String(required=True)
    platformNo = fields.String(required=True)
    reqData = fields.String(required=True)
    signature = fields.String(required=True)


class Balance(Schema):
    userNo = fields.String(required=True)
    balance = fields.String(required=True, metadata={"description": "the available balance in yuan"})
    frozen = fields.String(required=True, metadata={"description": "what pre-transactions hold, in yuan"})


class Totals(Schema):
    cards = fields.String(required=True, metadata={"description": "every bank user's card balance, in yuan"})
    available = fields.String(required=True, metadata={"description": "every depository account's available balance"})
    frozen = fields.String(required=True, metadata={"description": "every depository account's frozen balance"})
    platform = fields.String(required=True, metadata={"description": "the platform's own account"})
    total = fields.String(required=True, metadata={"description": "the sum; it changes only when a user is opened"})


class StatementQuery(Schema):
    platformNo = _platform_no()
    date = fields.Date(required=True, format="%Y-%m-%d")


class StatementLine(Schema):
    requestNo = fields.String(required=True)
    serviceName = fields.String(required=True)
    userNo = fields.String(required=True)
    amount = fields.String(required=True)
    commission = fields.String(required=True)
    status = fields.Integer(required=True)
    time = fields.String(required=True)
    projectNo = fields.String(metadata={"description": "freezes, cancels and confirmations"})
    bizType = fields.String(metadata={"description": "freezes and cancels: TENDER or REPAYMENT"})
    preRequestNo = fields.String(metadata={"description": "cancels and repayments: the freeze"})
    details = fields.List(fields.Dict(), metadata={
        "description": "loans: [{preRequestNo, userNo, amount}]; repayments: [{userNo, amount, interest}]"})


class Statement(Schema):
    platformNo = fields.String(required=True)
    date = fields.String(required=True)
    count = fields.Integer(required=True)
    transactions = fields.List(fields.Nested(StatementLine), required=True)


def _mer_priv():
    most = contract.HUIFU_MER_PRIV_MAX
    return _text(required=False, maximum=most, load_default="", pattern=PRINTABLE_ASCII, metadata={
        "description": f"echoed as MerPriv: at most {most} printable characters (Python's str.isprintable; the "
                       "pattern shows the ASCII ones)"})


class HuifuRegister(Schema):
    usrId = _text(maximum=64, pattern=f"^{contract.HUIFU_USR_ID_PATTERN}$", metadata={
        "description": "the user's openid: 1 to 25 letters, digits, '_' or '-', not the platform's own account",
        FROM_CONFIG: lambda config: {"not": {"enum": [config["PLATFORM_NO"]]}}})
    usrName = _text(required=False, maximum=64, load_default="")
    merPriv = _mer_priv()
    outcome = OUTCOME


class HuifuNetsave(Schema):
    usrCustId = _text(maximum=16)
    amount = fields.Raw(required=True, metadata={
        "description": 'yuan as a decimal string with at most two decimals ("100.00"), or a whole number of '
                       "yuan; above zero and at most SANDBOX_MAX_AMOUNT",
        FROM_CONFIG: lambda config: {"oneOf": [
            {"type": "string", "pattern": yuan_pattern(config["MAX_AMOUNT_FEN"])},
            {"type": "integer", **_range(1, config["MAX_AMOUNT_FEN"] // 100)}]}})
    ordId = _text(required=False, maximum=64, pattern=f"^(?:{contract.HUIFU_ORD_ID_PATTERN})?$", metadata={
        "description": "1 to 30 digits; absent or empty: the bank makes one (today's date and 16 random digits)"})
    merPriv = _mer_priv()
    outcome = OUTCOME


class HuifuAnswer(Schema):
    usrId = fields.String()
    usrCustId = fields.String()
    ordId = fields.String()
    trxId = fields.String(required=True)
    respCode = fields.String(required=True)
    respDesc = fields.String(required=True)
    pageCallbackUrl = fields.String(required=True)


def yuan_pattern(max_fen: int) -> str:
    """A pattern matching exactly the amounts :func:`shared.money.parse_yuan` accepts (written without
    surrounding spaces): yuan with at most two decimals, above zero and at most ``max_fen``."""
    whole, cents = divmod(max_fen, 100)
    options = []
    if whole:
        options.append("0" + _decimals(range(1, 100)))  # 0.01 to 0.99
        if whole > 1:
            options.append(f"(?:{_one_to(whole - 1)})" + _decimals(range(100), optional=True))
    options.append(str(whole) + _decimals(range(0 if whole else 1, cents + 1), optional=bool(whole)))
    return "^(?:" + "|".join(option for option in options if option) + ")$"


def _decimals(fen: range, optional: bool = False) -> str:
    """``.d`` or ``.dd`` whose value in fen is in ``fen``; no decimals at all allowed too when ``optional``."""
    ones = [str(value // 10) for value in fen if value % 10 == 0]
    units_by_tens: dict[str, list[str]] = {}
    for value in fen:
        units_by_tens.setdefault(f"{value // 10}", []).append(f"{value % 10}")
    tens_by_units: dict[str, list[str]] = {}
    for tens, units in units_by_tens.items():
        tens_by_units.setdefault(_digits(units), []).append(tens)
    parts = ([_digits(ones)] if ones else []) + [_digits(tens) + units for units, tens in tens_by_units.items()]
    if not parts:
        return ""
    return "(?:\\.(?:" + "|".join(parts) + "))" + ("?" if optional else "")


def _digits(chosen: list[str]) -> str:
    """A character class of the given digits, as ranges."""
    values = sorted(int(d) for d in chosen)
    if len(values) == 1:
        return str(values[0])
    runs, start = [], values[0]
    for previous, value in zip(values, values[1:] + [None]):
        if value != previous + 1:
            runs.append(f"{start}-{previous}" if previous > start else str(start))
            start = value
    return "[" + "".join(runs) + "]"


def _one_to(limit: int) -> str:
    """Alternatives matching exactly the whole numbers from 1 to ``limit``, without leading zeros."""
    digits = str(limit)
    parts = ["[1-9]" + _repeated_digit(length - 1) for length in range(1, len(digits))]
    for position, digit in enumerate(digits):
        low = 1 if position == 0 else 0
        if int(digit) > low:
            rest = len(digits) - position - 1
            parts.append(digits[:position] + _digits([str(d) for d in range(low, int(digit))]) + _repeated_digit(rest))
    return "|".join(parts + [digits])


def _repeated_digit(count: int) -> str:
    return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"

