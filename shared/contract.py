"""The identifiers and messages two services exchange, defined once and used by both sides.

The wire formats themselves are described in docs/protocols.md; the partner's envelope is
:mod:`shared.partner_envelope`, the wanxin and Huifu signatures :mod:`shared.signing`.
"""
import re
from dataclasses import dataclass

from shared.config import read_key_file
from shared.errors import BadRequest
from shared.inputs import loads_json

# --- identifiers (platform-wide) ----------------------------------------------------------------------
REQUEST_NO_PATTERN = r"REQ_[0-9A-F]{32}"
USER_NO_PATTERN = r"USR_[0-9A-F]{32}"
REQUEST_NO = re.compile(REQUEST_NO_PATTERN)
USER_NO = re.compile(USER_NO_PATTERN)
REQUEST_NO_RULE = "REQ_ followed by 32 upper-case hex characters"
USER_NO_RULE = "USR_ followed by 32 upper-case hex characters"

# --- the wanxin depository: services, results and their messages ------------------------------------
PERSONAL_REGISTER, RECHARGE, WITHDRAW = "PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"
GATEWAY_SERVICES = (PERSONAL_REGISTER, RECHARGE, WITHDRAW)
MONEY_SERVICES = (RECHARGE, WITHDRAW)  # the gateway services that carry an amount
# respCode of a successful bank result; notification status 1 success, 2 failure.
SUCCESS_CODE = "00000"
STATUS_SUCCESS, STATUS_FAILURE = 1, 2
STATUS_PENDING = 0  # a query answer: the bank knows the request, the user has not confirmed it yet
# transactionStatus of a RECHARGE or WITHDRAW result, by status.
TRANSACTION_STATUS = {STATUS_SUCCESS: "SUCCESS", STATUS_FAILURE: "FAIL"}
# respCode of the agent's own failure result for a request the bank never received and now refuses.
EXPIRED_CODE = "EXPIRED"
# The bank's 404 code for a /service/query about a request it does not know.
QUERY_UNKNOWN_CODE = 908
# An amount as the wanxin messages carry it: yuan with exactly two decimals, as a string ("100.00").
AMOUNT_PATTERN = r"(0|[1-9][0-9]{0,14})\.[0-9]{2}"
AMOUNT = re.compile(AMOUNT_PATTERN)
# The agent publishes every final bank result here, routing key = serviceName; user-center's queue
# (bound with "#") and its dead-letter queue.
GATEWAY_NOTIFY_EXCHANGE = "depository.gateway-notify"
GATEWAY_NOTIFY_QUEUE = "user-center.gateway-notify"
GATEWAY_NOTIFY_DLQ = "user-center.gateway-notify.dlq"

_RESULT_COMMON = ("requestNo", "respCode", "respMsg", "status")
# The fields of a bank's final result (notification or query answer), exactly, per service.
RESULT_FIELDS = {PERSONAL_REGISTER: frozenset(_RESULT_COMMON + ("bankCode", "bankName")),
                 RECHARGE: frozenset(_RESULT_COMMON + ("transactionStatus", "amount")),
                 WITHDRAW: frozenset(_RESULT_COMMON + ("transactionStatus", "amount"))}
# The fields of the agent's expiry result (respCode EXPIRED, status 2), exactly, per service.
EXPIRY_FIELDS = {PERSONAL_REGISTER: frozenset(_RESULT_COMMON),
                 RECHARGE: frozenset(_RESULT_COMMON + ("transactionStatus", "amount")),
                 WITHDRAW: frozenset(_RESULT_COMMON + ("transactionStatus", "amount"))}
_TEXT_MAX = 256


def result_message_id(service_name: str, request_no: str) -> str:
    """The ``message_id`` of a published bank result: ``<serviceName>:<requestNo>``."""
    return f"{service_name}:{request_no}"


class InvalidResult(ValueError):
    """A gateway result (or a message carrying one) that does not mean exactly one thing; the text names
    the field and the rule."""


@dataclass(frozen=True)
class GatewayResult:
    """A final result of a wanxin gateway service, validated by :func:`check_result`.

    ``fields`` is the result JSON as the bank sent it (the agent's own for an expiry); the message on
    ``depository.gateway-notify`` is ``fields`` plus ``serviceName`` (:meth:`message_body`).
    """

    service_name: str
    request_no: str
    status: int               # STATUS_SUCCESS or STATUS_FAILURE
    amount: int | None        # fen, RECHARGE and WITHDRAW; None for PERSONAL_REGISTER
    fields: dict

    @property
    def success(self) -> bool:
        return self.status == STATUS_SUCCESS

    @property
    def message_id(self) -> str:
        return result_message_id(self.service_name, self.request_no)

    def message_body(self) -> dict:
        """The JSON object published for this result: the result's fields plus ``serviceName``."""
        return {**self.fields, "serviceName": self.service_name}


def result_status(fields: dict) -> int:
    """The ``status`` of a result: the JSON integer 0, 1 or 2 (a string "1" would be stored and published
    as another value than the number, so it is refused)."""
    status = fields.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status in (0, 1, 2):
        return status
    raise InvalidResult("status must be the number 1 (success) or 2 (failure)")


def _text(fields: dict, name: str, required: bool = True) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > _TEXT_MAX:
        raise InvalidResult(f"{name} is required as a non-empty string of at most {_TEXT_MAX} characters")
    return value


def _amount_fen(fields: dict) -> int:
    text = fields.get("amount")
    if not isinstance(text, str) or not AMOUNT.fullmatch(text):
        raise InvalidResult('amount must be the amount as the request carried it: a string such as "100.00"')
    fen = int(text.replace(".", ""))
    if fen == 0:
        raise InvalidResult("amount must be greater than zero")
    return fen


def check_result(service_name: str, fields: dict, expiry: bool = False) -> GatewayResult:
    """Validate a final result of ``service_name``; :class:`InvalidResult` unless it means one thing only.

    A result carries exactly its service's fields (:data:`RESULT_FIELDS`): a field of another service,
    an unknown one or a missing one is refused. With ``expiry`` the agent's own expiry result is
    accepted too: respCode ``EXPIRED``, status 2 and exactly :data:`EXPIRY_FIELDS` (no bank name: the
    bank never saw the request). The success markers must agree: status 1 with respCode "00000" (and
    transactionStatus SUCCESS), status 2 with any other respCode (and FAIL); requestNo in its format;
    amount a string with exactly two decimals, above zero.

    The agent calls it on every bank result before it settles it (and on its own expiry result);
    user-center calls it on every message it consumes, through :func:`parse_message`.
    """
    if service_name not in RESULT_FIELDS:
        raise InvalidResult(f"serviceName {str(service_name)[:40]!r} is not one of {', '.join(GATEWAY_SERVICES)}")
    if not isinstance(fields, dict):
        raise InvalidResult("a result must be a JSON object")
    names = set(fields)
    is_expiry = expiry and fields.get("respCode") == EXPIRED_CODE and names == EXPIRY_FIELDS[service_name]
    if names != RESULT_FIELDS[service_name] and not is_expiry:
        differences = sorted(names ^ RESULT_FIELDS[service_name])
        raise InvalidResult(f"a {service_name} result carries exactly its fields; not so for: "
                            f"{', '.join(map(str, differences))[:200]}")
    request_no = _text(fields, "requestNo")
    if not REQUEST_NO.fullmatch(request_no):
        raise InvalidResult(f"requestNo must be {REQUEST_NO_RULE}")
    status = result_status(fields)
    if status == STATUS_PENDING:
        raise InvalidResult("status must be final: 1 (success) or 2 (failure)")
    resp_code = _text(fields, "respCode")
    _text(fields, "respMsg")
    if (resp_code == SUCCESS_CODE) != (status == STATUS_SUCCESS):
        raise InvalidResult(f"respCode {resp_code[:16]!r} contradicts status {status}")
    amount = None
    if service_name in MONEY_SERVICES:
        if fields.get("transactionStatus") != TRANSACTION_STATUS[status]:
            raise InvalidResult(f"transactionStatus must be {TRANSACTION_STATUS[status]} with status {status}")
        amount = _amount_fen(fields)
    elif not is_expiry:
        _text(fields, "bankCode")
        _text(fields, "bankName")
    return GatewayResult(service_name, request_no, status, amount, dict(fields))


def parse_message(body: bytes) -> GatewayResult:
    """A message of ``depository.gateway-notify`` (the UTF-8 JSON object the agent publishes: a result
    plus ``serviceName``), read strictly (:func:`shared.inputs.loads_json`) and validated by
    :func:`check_result` as the agent validated it before publishing; :class:`InvalidResult` otherwise."""
    try:
        message = loads_json(body)
    except BadRequest as exc:  # not UTF-8, not JSON, a name given twice, NaN, ...: read one way only
        raise InvalidResult(f"the message is not one JSON reading: {exc.msg}") from None
    if not isinstance(message, dict):
        raise InvalidResult("the message is not a JSON object")
    fields = dict(message)
    service_name = fields.pop("serviceName", None)
    return check_result(service_name, fields, expiry=True)


# --- the partner (Rongshu big-loan channel) ---------------------------------------------------------
RONGSHU_APP_ID = "rongshu"
RONGSHU_SECRET_FILE = "rongshu_secret"
PARTNER_PATH_PREFIX = "/rongshu/"

# Refusals: 400 bad sign / stale timestamp / bad bizData, 404 unknown order, 409 other content or wrong state.
BAD_REQUEST, UNKNOWN_ORDER, CONFLICT = 1001, 1004, 1009

# audit/result and loan/result status codes (the seed's numbers).
AUDIT_APPROVED, AUDIT_REFUSED, AUDIT_IN_REVIEW = 6001, 6004, 6003
LOAN_DISBURSED, LOAN_IN_PROGRESS, LOAN_REFUSED = 7001, 7002, 7003

# Callback events (bizData ``{eventId, event, orderNo, ...}``).
CREDIT_REJECTED = "credit.rejected"
LOAN_REJECTED = "loan.rejected"
LOAN_SUCCEEDED = "loan.succeeded"
REPAY_OVERDUE = "repay.overdue"
REPAY_RESULT = "repay.result"
CALLBACK_EVENTS = frozenset({CREDIT_REJECTED, LOAN_REJECTED, LOAN_SUCCEEDED, REPAY_OVERDUE, REPAY_RESULT})

# The credit data lending pulls from the partner: GET <partner>/data/<orderNo>/<kind>.
CREDIT_DATA_KINDS = ("operator", "creditcard", "device")

# repay/result statuses.
REPAY_PROCESSING, REPAY_SUCCESS, REPAY_FAILED = "PROCESSING", "SUCCESS", "FAILED"


def partner_secret(config: dict) -> str:
    """The partner's shared secret: ``RONGSHU_SECRET``, else ``KEYS_DIR/rongshu_secret`` ('' when neither)."""
    return config.get("RONGSHU_SECRET") or read_key_file(config, RONGSHU_SECRET_FILE)


# --- the depository agent's transaction services (section 9) -----------------------------------------
CREATE_PROJECT = "CREATE_PROJECT"
MODIFY_PROJECT = "MODIFY_PROJECT"
PRE_TRANSACTION = "USER_AUTO_PRE_TRANSACTION"
CANCEL_PRE_TRANSACTION = "CANCEL_PRE_TRANSACTION"
CONFIRM_LOAN = "CONFIRM_LOAN"
CONFIRM_REPAYMENT = "CONFIRM_REPAYMENT"
# serviceName -> the agent's path; the serviceName is also the routing key of its results on
# exchange depository.gateway-notify (message_id ``<serviceName>:<requestNo>``).
TRANSACTION_PATHS = {
    CREATE_PROJECT: "/l/projects",
    MODIFY_PROJECT: "/l/projects/status",
    PRE_TRANSACTION: "/l/pre-transactions",
    CANCEL_PRE_TRANSACTION: "/l/pre-transactions/cancel",
    CONFIRM_LOAN: "/l/loans",
    CONFIRM_REPAYMENT: "/l/repayments",
}
TENDER, REPAYMENT = "TENDER", "REPAYMENT"
FIXED_REPAYMENT, FIXED_CAPITAL = "FIXED_REPAYMENT", "FIXED_CAPITAL"
# Project statuses lending sets: REPAYING once disbursed, CLEARED once repaid, MISCARRY when refused.
REPAYING, CLEARED, MISCARRY = "REPAYING", "CLEARED", "MISCARRY"
# Bank result codes (20007, an expired request, is the agent's own concern).
RESP_SUCCESS, RESP_BAD_PARAMETERS, RESP_INSUFFICIENT = "00000", "00003", "30042"
RESP_NO_PRE_TRANSACTION, RESP_AMOUNTS_DIFFER = "30010", "30050"

# --- user-center's additions for lending (service token, RestResponse) -------------------------------
# POST {mobile, fullname, idNumber} -> {userNo, depositoryStatus}: find or create the user by mobile.
UC_CONSUMERS = "/internal/consumers"
# GET -> {userNo, depositoryStatus}.
UC_CONSUMER = "/internal/consumers/{userNo}"
# POST {userNo, fullname, idNumber, mobile, bankCode, cardNumber, role, validMinutes} -> {url, expiresAt}:
# a one-time link that signs the borrower in and sends the browser to the bank's account-opening page.
UC_OPEN_ACCOUNT_LINKS = "/internal/open-account-links"
OPENED = "OPENED"
