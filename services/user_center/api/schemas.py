"""Request and response schemas; they validate input and make the OpenAPI document real.

The document states every rule the inputs are checked by, as patterns where a validator is code, so a
client generated from it sends what the API accepts: printable text, passwords without NUL (and a new
one without surrounding whitespace), the amount up to MAX_AMOUNT and the callbackUrl inside
CALLBACK_URL_PREFIXES (both from the configuration: :func:`document`), and no fields beyond those listed.
"""
from apispec import BasePlugin
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shared.contract import REQUEST_NO_PATTERN, REQUEST_NO_RULE, USER_NO_PATTERN, USER_NO_RULE
from shared.errors import NotFound
from shared.money import format_fen, parse_yuan, yuan_pattern
from shared.web import FullMatch

from user_center import callback_urls
from user_center.borrowers import MAX_LINK_MINUTES
from user_center.bootstrap import dependencies


MOBILE = FullMatch(r"^1[0-9]{10}$", error="must be an 11-digit mobile number starting with 1")
MAX_URL_LENGTH = 512


def _character_class(keep, last: int = 0xFFFF) -> str:
    """The characters up to ``last`` (surrogates aside) for which ``keep(character)`` holds, as the inside of a
    regular expression's character class (``\\uXXXX`` ranges, the same in Python and ECMAScript)."""
    ranges, start = [], None
    for code in range(last + 2):
        kept = code <= last and not 0xD800 <= code <= 0xDFFF and keep(chr(code))
        if kept and start is None:
            start = code
        elif not kept and start is not None:
            ranges.append(f"\\u{start:04x}" + (f"-\\u{code - 1:04x}" if code - 1 > start else ""))
            start = None
    return "".join(ranges)


# What _printable accepts, in the basic multilingual plane (the document leaves out the rarer planes).
PRINTABLE_TEXT = f"^[{_character_class(str.isprintable)}]*$"
_SPACE = _character_class(str.isspace)
# Any text without NUL (which no JSON string may carry here: shared.inputs); a new password also
# neither begins nor ends with whitespace (_no_surrounding_whitespace).
PASSWORD_TEXT = r"^[^\x00]*$"
NEW_PASSWORD_TEXT = rf"^[^{_SPACE}\x00](?:[^\x00]*[^{_SPACE}\x00])?$"


class Input(Schema):
    """Inputs ignore unknown fields (clients add their own parameters); the document lists none beyond
    their own (:class:`_ListedFieldsOnly`)."""

    class Meta:
        unknown = EXCLUDE


class Yuan(fields.String):
    """A user-facing amount in yuan (``"100.00"``) loaded as integer fen (shared.money.parse_yuan)."""

    def __init__(self, metadata: dict | None = None, **kwargs):
        metadata = {"description": "yuan, at most two decimals, above zero, at most MAX_AMOUNT", **(metadata or {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_yuan(value, attr or "amount", dependencies().config["MAX_AMOUNT_FEN"])


def _printable(value: str) -> None:
    """Refuse control characters (PostgreSQL text cannot even hold NUL)."""
    if not value.isprintable():
        raise ValidationError("must not contain control characters")


def _allowed_callback_url(value: str) -> None:
    """Only the configured prefixes, so the bank never sends a user to a stranger's site."""
    rules = dependencies().config["CALLBACK_URL_RULES"]
    if not callback_urls.allowed(value, rules):
        raise ValidationError("must be a URL starting with " + " or ".join(rule.text for rule in rules))


CALLBACK_URL = {"required": True, "validate": [validate.Length(max=MAX_URL_LENGTH), _allowed_callback_url],
                "metadata": {"description": "where the bank sends the browser back: inside CALLBACK_URL_PREFIXES",
                             "callback_url": True}}


def _no_surrounding_whitespace(value: str) -> None:
    """A new password may not begin or end with whitespace (nor be only whitespace).

    Such a password is nearly always a paste or keyboard accident, and clients disagree about
    trimming: refusing it at registration makes every stored password the same whether or not a
    client trims, so the user can log in from any of them. Spaces inside stay allowed.
    """
    if value != value.strip():
        raise ValidationError("must not begin or end with whitespace")


class RegisterIn(Input):
    mobile = fields.String(required=True, validate=MOBILE, metadata={"example": "13800138000"})
    password = fields.String(required=True, validate=[validate.Length(8, 64), _no_surrounding_whitespace],
                             load_only=True, metadata={"pattern": NEW_PASSWORD_TEXT})
    username = fields.String(load_default=None, allow_none=True, validate=[validate.Length(1, 32), _printable],
                             metadata={"pattern": PRINTABLE_TEXT})


class TokenIn(Input):
    mobile = fields.String(required=True, validate=MOBILE)
    password = fields.String(required=True, validate=validate.Length(1, 128), load_only=True,
                             metadata={"pattern": PASSWORD_TEXT})


ID_NUMBER = FullMatch(r"^([0-9]{17}[0-9Xx]|[0-9]{15})$", error="must be a 15- or 18-character ID number")
FULLNAME = {"required": True, "validate": [validate.Length(1, 50), _printable], "metadata": {"pattern": PRINTABLE_TEXT}}
USER_NO = FullMatch(f"^{USER_NO_PATTERN}$", error=f"must be {USER_NO_RULE}")


class BankIdentity(Input):
    """Who opens a depository account, and with which card."""

    fullname = fields.String(**FULLNAME)
    idNumber = fields.String(required=True, data_key="idNumber", attribute="id_number", validate=ID_NUMBER)
    bankCode = fields.String(required=True, attribute="bank_code",
                             validate=FullMatch(r"^[A-Za-z0-9]{2,20}$", error="must be 2-20 letters or digits"))
    cardNumber = fields.String(required=True, attribute="card_number",
                               validate=FullMatch(r"^[0-9]{12,19}$", error="must be 12-19 digits"))
    mobile = fields.String(required=True, validate=MOBILE)
    role = fields.String(required=True, validate=validate.OneOf(["I", "B"]),
                         metadata={"description": "I investor, B borrower"})


class OpenAccountIn(BankIdentity):
    callbackUrl = fields.String(attribute="callback_url", **CALLBACK_URL)


class OpenAccountLinkIn(BankIdentity):
    userNo = fields.String(required=True, attribute="user_no", validate=USER_NO)
    validMinutes = fields.Integer(required=True, strict=True, attribute="valid_minutes",
                                  validate=validate.Range(1, MAX_LINK_MINUTES),
                                  metadata={"description": "how long the link can be used, at most 30 minutes"})


class ConsumerIn(Input):
    """lending's borrower: found by mobile, created when new."""

    mobile = fields.String(required=True, validate=MOBILE, metadata={"example": "13800138000"})
    fullname = fields.String(**FULLNAME)
    idNumber = fields.String(required=True, attribute="id_number", validate=ID_NUMBER)


class AmountIn(Input):
    amount = Yuan(required=True)
    callbackUrl = fields.String(attribute="callback_url", **CALLBACK_URL)


class RecordsQuery(Input):
    """Without ``amount`` the GET lists records; with it, it is the original API's GET form of a request."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    size = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    amount = Yuan(metadata={"description": "with callbackUrl (both or neither): a new request instead of the list"})
    callbackUrl = fields.String(attribute="callback_url", **{**CALLBACK_URL, "required": False})

    @validates_schema
    def _request_needs_both(self, data, **kwargs):
        if ("amount" in data) != ("callback_url" in data):
            raise ValidationError("amount and callbackUrl go together", "callbackUrl" if "amount" in data else "amount")


REQUEST_NO = FullMatch(f"^{REQUEST_NO_PATTERN}$", error=f"must be {REQUEST_NO_RULE}")
def own_request_no(value: str) -> str:
    """A requestNo from a path: one that cannot be a requestNo is unknown (404), like another user's."""
    if REQUEST_NO.regex.fullmatch(value) is None:
        raise NotFound("no such record among yours")
    return value


# 80 requestNo parameters (47 bytes each) keep a GET's request line under gunicorn's 4,094 bytes.
MAX_REQUEST_NOS = 80
MAX_INTERNAL_PAGE = 500


class InternalRecordsQuery(Input):
    """Either ``requestNo`` (repeated, at most 80) or a ``[from, to)`` window with ``page`` and ``size``."""

    requestNo = fields.List(fields.String(validate=REQUEST_NO), validate=validate.Length(1, MAX_REQUEST_NOS),
                            metadata={"description": "the records of these requests; without from and to"})
    start = fields.AwareDateTime(data_key="from", metadata={
        "description": "ISO 8601 with offset, inclusive; with to, before it, and without requestNo"})
    end = fields.AwareDateTime(data_key="to", metadata={
        "description": "ISO 8601 with offset, exclusive; with from, after it, and without requestNo"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    size = fields.Integer(load_default=100, validate=validate.Range(1, MAX_INTERNAL_PAGE))

    @validates_schema
    def _one_selection(self, data, **kwargs):
        window = "start" in data or "end" in data
        if ("requestNo" in data) == window:
            raise ValidationError("give either requestNo or both from and to", "requestNo")
        if window and not ("start" in data and "end" in data and data["start"] < data["end"]):
            raise ValidationError("from and to go together, from before to", "to")


# ---- responses -------------------------------------------------------------------------------------

DEPOSITORY_STATUSES = ["NONE", "PENDING", "OPENED", "FAILED"]


class GatewayRequest(Schema):
    serviceName = fields.String()
    platformNo = fields.String()
    reqData = fields.String(metadata={"description": "Base64 of the signed JSON"})
    signature = fields.String(metadata={"description": "Base64 RSA signature"})
    depositoryUrl = fields.String()


class Registered(Schema):
    userNo = fields.String()
    mobile = fields.String()
    username = fields.String(allow_none=True)


class Token(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class BankCard(Schema):
    bankCode = fields.String()
    bankName = fields.String(allow_none=True)
    cardNumber = fields.String(metadata={"description": "masked, e.g. 6222********1234"})


class Profile(Schema):
    userNo = fields.String()
    mobile = fields.String()
    username = fields.String(allow_none=True)
    depositoryStatus = fields.String(validate=validate.OneOf(DEPOSITORY_STATUSES))
    bankCard = fields.Nested(BankCard, allow_none=True)


class RechargeRecord(Schema):
    requestNo = fields.String()
    amount = fields.String(metadata={"example": "100.00"})
    callbackStatus = fields.Integer(metadata={"description": "0 pending, 1 success, 2 failed"})
    createDate = fields.String()


class WithdrawRecord(RechargeRecord):
    commission = fields.String(metadata={"example": "0.00"})


def _page(name: str, record: type[Schema]) -> type[Schema]:
    """``{total, records}``: one page of ``record``s, and how many there are in all."""
    return Schema.from_dict({"total": fields.Integer(), "records": fields.List(fields.Nested(record))}, name=name)


RechargePage = _page("RechargePage", RechargeRecord)
WithdrawPage = _page("WithdrawPage", WithdrawRecord)


class InternalRecord(Schema):
    requestNo = fields.String()
    serviceName = fields.String(metadata={"description": "RECHARGE or WITHDRAW"})
    userNo = fields.String()
    amount = fields.Integer(metadata={"description": "fen"})
    commission = fields.Integer(metadata={"description": "fen; 0 for a recharge"})
    callbackStatus = fields.Integer(metadata={"description": "0 pending, 1 success, 2 failed"})
    createDate = fields.String()
    updateDate = fields.String()


InternalRecordPage = _page("InternalRecordPage", InternalRecord)


class ConsumerStatus(Schema):
    userNo = fields.String()
    depositoryStatus = fields.String(validate=validate.OneOf(DEPOSITORY_STATUSES))


class OpenAccountLink(Schema):
    url = fields.String(metadata={
        "description": "<USER_CENTER_PUBLIC_URL>/open-account/<43-character token>; usable once"})
    expiresAt = fields.Integer(metadata={"description": "Unix seconds; the link is refused from this second on"})


YUAN = {"metadata": {"example": "100.00", "description": "yuan"}}


class LoanPlanLine(Schema):
    period = fields.Integer()
    dueDate = fields.String(metadata={"description": "yyyy-MM-dd"})
    principal = fields.String(**YUAN)
    interest = fields.String(**YUAN)
    penalty = fields.String(**YUAN)
    total = fields.String(**YUAN)
    paid = fields.String(**YUAN)
    status = fields.Integer(metadata={"description": "0 due, 1 paid, 2 overdue"})
    overdueDays = fields.Integer()


class MyLoan(Schema):
    borrowNo = fields.String()
    orderNo = fields.String()
    status = fields.Integer(metadata={"description": "lending's borrow status: 0 created, 10 in review, 20 approved, "
                                                     "13 disbursing, 30 repaying, 31 disbursement failed, 27 refused, "
                                                     "40 repaid, 41 repaid with a penalty waived"})
    amount = fields.String(**YUAN)
    serviceFee = fields.String(**YUAN)
    term = fields.Integer(metadata={"description": "months"})
    annualRate = fields.String(metadata={"example": "0.18"})
    repaymentWay = fields.String()
    loanTime = fields.String(allow_none=True, metadata={"description": "yyyy-MM-dd HH:mm:ss, null before disbursing"})
    plans = fields.List(fields.Nested(LoanPlanLine))


class MyLoans(Schema):
    loans = fields.List(fields.Nested(MyLoan))


class Balance(Schema):
    userNo = fields.String()
    balance = fields.String(metadata={"example": "123.45"})
    currency = fields.String()


def envelope(name: str, result: fields.Field | type[Schema]) -> type[Schema]:
    """A RestResponse schema ``{code, msg, result}`` named ``name``; a schema class is nested."""
    if isinstance(result, type):
        result = fields.Nested(result)
    return Schema.from_dict({"code": fields.Integer(), "msg": fields.String(), "result": result}, name=name)


def either(name: str, *schemas: type[Schema]) -> type[Schema]:
    """A RestResponse whose result is one of ``schemas`` (the dual-purpose GET endpoints)."""
    refs = [{"$ref": f"#/components/schemas/{schema.__name__}"} for schema in schemas]
    return envelope(name, fields.Raw(metadata={"oneOf": refs}))


ErrorResponse = envelope("ErrorResponse", fields.Raw(allow_none=True, metadata={"nullable": True, "example": None}))


class _ListedFieldsOnly(BasePlugin):
    """The document's request bodies take only the fields they list (``additionalProperties: false``): the API
    ignores others, but a field it does not read can still be refused (NUL, deep nesting: shared.inputs)."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        schema_class = schema if isinstance(schema, type) else type(schema)
        return {"additionalProperties": False} if issubclass(schema_class, Input) else None


def document(api, config: dict) -> None:
    """What the OpenAPI document needs besides the routes; call it before registering them.

    The two bearer schemes (users' tokens and the service token), the record pages the dual-purpose GET
    answers refer to, bodies closed to unlisted fields, and the rules that come from the configuration:
    the amount's pattern up to MAX_AMOUNT and the callbackUrl's inside CALLBACK_URL_PREFIXES, each with
    an example this deployment accepts.
    """
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("serviceToken", {"type": "http", "scheme": "bearer"})
    for page in (RechargePage, WithdrawPage):
        api.spec.components.schema(page.__name__, schema=page)
    closed = _ListedFieldsOnly()
    closed.init_spec(api.spec)
    api.spec.plugins.append(closed)
    amount = {"pattern": yuan_pattern(config["MAX_AMOUNT_FEN"]),
              "example": format_fen(min(10000, config["MAX_AMOUNT_FEN"]))}
    rules = config["CALLBACK_URL_RULES"]
    callback_url = {"pattern": callback_urls.documented_pattern(rules), "example": rules[0].text + "#/callback"}

    def configured_rules(converter, field, **kwargs) -> dict:
        if isinstance(field, Yuan):
            return amount
        return callback_url if field.metadata.get("callback_url") else {}

    api.ma_plugin.converter.add_attribute_function(configured_rules)
