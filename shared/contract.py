"""The identifiers and messages two services exchange, defined once and used by both sides.

The wire formats themselves are described in docs/protocols.md; the partner's envelope is
:mod:`shared.partner_envelope`, the wanxin and Huifu signatures :mod:`shared.signing`.
"""
import re
import secrets
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


def new_request_no() -> str:
    """A fresh requestNo: ``REQ_`` + 32 upper-case hex characters (random)."""
    return "REQ_" + secrets.token_hex(16).upper()


def new_user_no() -> str:
    """A fresh userNo: ``USR_`` + 32 upper-case hex characters (random)."""
    return "USR_" + secrets.token_hex(16).upper()

# --- the wanxin depository: services, results and their messages ------------------------------------
PERSONAL_REGISTER, RECHARGE, WITHDRAW = "PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"
GATEWAY_SERVICES = (PERSONAL_REGISTER, RECHARGE, WITHDRAW)
MONEY_SERVICES = (RECHARGE, WITHDRAW)  # the gateway services that carry an amount
# The transaction services of section 9 (POST /service, server to server; docs/lending.md, "Money").
CREATE_PROJECT = "CREATE_PROJECT"
MODIFY_PROJECT = "MODIFY_PROJECT"
PRE_TRANSACTION = "USER_AUTO_PRE_TRANSACTION"
CANCEL_PRE_TRANSACTION = "CANCEL_PRE_TRANSACTION"
CONFIRM_LOAN = "CONFIRM_LOAN"
CONFIRM_REPAYMENT = "CONFIRM_REPAYMENT"
TRANSACTION_SERVICES = (CREATE_PROJECT, MODIFY_PROJECT, PRE_TRANSACTION, CANCEL_PRE_TRANSACTION, CONFIRM_LOAN,
                        CONFIRM_REPAYMENT)
# respCode of a successful bank result; notification status 1 success, 2 failure.
SUCCESS_CODE = "00000"
STATUS_SUCCESS, STATUS_FAILURE = 1, 2
STATUS_PENDING = 0  # a query answer: the bank knows the request, the user has not confirmed it yet
# transactionStatus of a RECHARGE or WITHDRAW result (or a pending query view), by status.
TRANSACTION_STATUS = {STATUS_PENDING: "PENDING", STATUS_SUCCESS: "SUCCESS", STATUS_FAILURE: "FAIL"}
# respCode of the agent's own failure result for a request the bank never received and now refuses.
EXPIRED_CODE = "EXPIRED"
# The bank's 404 code for a /service/query about a request it does not know.
QUERY_UNKNOWN_CODE = 908
# An amount as the wanxin messages carry it: yuan with exactly two decimals, as a string ("100.00").
AMOUNT_PATTERN = r"(0|[1-9][0-9]{0,14})\.[0-9]{2}"
AMOUNT = re.compile(AMOUNT_PATTERN)
# The agent publishes every final bank result here, routing key = serviceName; user-center's queue
# (bound to the gateway services' keys only) and its dead-letter queue.
GATEWAY_NOTIFY_EXCHANGE = "depository.gateway-notify"
GATEWAY_NOTIFY_QUEUE = "user-center.gateway-notify"
GATEWAY_NOTIFY_DLQ = "user-center.gateway-notify.dlq"

_RESULT_COMMON = ("requestNo", "respCode", "respMsg", "status")
# The fields of a bank's final result (notification, query answer or a transaction service's answer),
# exactly, per service: the transaction services' results carry the common fields only.
RESULT_FIELDS = {PERSONAL_REGISTER: frozenset(_RESULT_COMMON + ("bankCode", "bankName")),
                 RECHARGE: frozenset(_RESULT_COMMON + ("transactionStatus", "amount")),
                 WITHDRAW: frozenset(_RESULT_COMMON + ("transactionStatus", "amount")),
                 **{name: frozenset(_RESULT_COMMON) for name in TRANSACTION_SERVICES}}
# The fields of the agent's expiry result (respCode EXPIRED, status 2), exactly, per service.
EXPIRY_FIELDS = {**RESULT_FIELDS, PERSONAL_REGISTER: frozenset(_RESULT_COMMON)}
# Every service whose final results the agent publishes on GATEWAY_NOTIFY_EXCHANGE (routing key = serviceName).
RESULT_SERVICES = tuple(RESULT_FIELDS)
_TEXT_MAX = 256


def result_message_id(service_name: str, request_no: str) -> str:
    """The ``message_id`` of a published bank result: ``<serviceName>:<requestNo>``."""
    return f"{service_name}:{request_no}"


class InvalidResult(ValueError):
    """A gateway result (or a message carrying one) that does not mean exactly one thing; the text names
    the field and the rule."""


@dataclass(frozen=True)
class GatewayResult:
    """A final result of a wanxin service (a gateway or a transaction service), validated by :func:`check_result`.

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
        raise InvalidResult(f"serviceName {str(service_name)[:40]!r} is not one of {', '.join(RESULT_SERVICES)}")
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
    elif service_name == PERSONAL_REGISTER and not is_expiry:
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


# --- the partner (Rongshu big-loan channel): docs/lending.md, docs/partner_sandbox.md --------------------
RONGSHU_APP_ID = "rongshu"
RONGSHU_SECRET_FILE = "rongshu_secret"


class PartnerCall:
    """The partner API's calls: ``POST <lending>/rongshu/<name>`` in the signed envelope of
    :mod:`shared.partner_envelope` (lending's routes are written out with exactly these paths)."""

    USER_FILTER = "user/filter"
    LOAN_TRIAL = "loan/trial"
    AGREEMENTS = "agreements"
    ORDER_PUSH = "order/push"
    AUDIT_RESULT = "audit/result"
    BANKS = "banks"
    CARD_BIND = "card/bind"
    LOAN_CONFIRM = "loan/confirm"
    LOAN_RESULT = "loan/result"
    REPAY_PLAN = "repay/plan"
    REPAY_TRIAL = "repay/trial"
    REPAY = "repay"
    REPAY_RESULT = "repay/result"


PARTNER_CALLS = tuple(value for name, value in vars(PartnerCall).items() if name.isupper())
PARTNER_PATH_PREFIX = "/rongshu/"

# Answers: {"code": 0, "msg": "success", "data": {...}}; a callback is acknowledged with {"code": 0} too.
PARTNER_SUCCESS = 0
# Refusals: 400 bad sign / stale timestamp / bad bizData, 404 unknown order, 409 other content or wrong state.
PARTNER_BAD_REQUEST, PARTNER_UNKNOWN_ORDER, PARTNER_CONFLICT = 1001, 1004, 1009

# audit/result and loan/result status codes (the seed's numbers).
AUDIT_APPROVED, AUDIT_REFUSED, AUDIT_IN_REVIEW = 6001, 6004, 6003
LOAN_DISBURSED, LOAN_IN_PROGRESS, LOAN_REFUSED = 7001, 7002, 7003
# loan/confirm: the borrow is created, or the borrower opens a depository account first.
CONFIRM_ACCEPTED, CONFIRM_OPEN_ACCOUNT = "ACCEPTED", "OPEN_ACCOUNT"
# repay/trial and repay: ``periods`` is a list of period numbers, or this to settle early.
ALL_PERIODS = "all"
# repay/result statuses.
REPAY_PROCESSING, REPAY_SUCCESS, REPAY_FAILED = "PROCESSING", "SUCCESS", "FAILED"

# Callback events (bizData ``{eventId, event, orderNo, ...}``).
CREDIT_REJECTED = "credit.rejected"
LOAN_REJECTED = "loan.rejected"
LOAN_SUCCEEDED = "loan.succeeded"
REPAY_OVERDUE = "repay.overdue"
REPAY_RESULT = "repay.result"
CALLBACK_EVENTS = frozenset({CREDIT_REJECTED, LOAN_REJECTED, LOAN_SUCCEEDED, REPAY_OVERDUE, REPAY_RESULT})

# The credit data lending pulls from the partner: GET <partner>/data/<orderNo>/<kind>.
CREDIT_DATA_KINDS = ("operator", "creditcard", "device")
CREDIT_DATA_PATH = "/data/{orderNo}/{kind}"


def partner_secret(config: dict) -> str:
    """The partner's shared secret: ``RONGSHU_SECRET``, else ``KEYS_DIR/rongshu_secret`` ('' when neither)."""
    return config.get("RONGSHU_SECRET") or read_key_file(config, RONGSHU_SECRET_FILE)


# --- the credit engine: a lending worker today; a real engine takes its place on these queues ---------------
# lending publishes requests on this topic exchange; the engine consumes the two request queues and publishes
# each decision with its routing key: credit.request -> credit.decision {orderNo, approved, reasons,
# approvedAmount?}, audit.request -> audit.decision {borrowNo, orderNo, approved, reasons}.
LENDING_EXCHANGE = "lending.events"
CREDIT_REQUEST, CREDIT_DECISION = "credit.request", "credit.decision"
AUDIT_REQUEST, AUDIT_DECISION = "audit.request", "audit.decision"
CREDIT_REQUESTS, AUDIT_REQUESTS = "lending.credit-requests", "lending.audit-requests"

# --- the depository agent's transaction services (docs/lending.md, "Money") ----------------------------
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
# Bank result codes besides SUCCESS_CODE (20007, an expired request, is the agent's own concern).
RESP_BAD_PARAMETERS, RESP_INSUFFICIENT = "00003", "30042"
RESP_NO_PRE_TRANSACTION, RESP_AMOUNTS_DIFFER = "30010", "30050"

# --- depository results: every respCode the bank answers ---------------------------------------------
# In notifications, /service/query views and transaction-service answers; their meanings are in
# docs/bank_sandbox.md. SUCCESS_CODE (= RESP_SUCCESS) and the section's RESP_BAD_PARAMETERS,
# RESP_INSUFFICIENT, RESP_NO_PRE_TRANSACTION and RESP_AMOUNTS_DIFFER above are codes of this list too.
RESP_PENDING = "10000"  # not confirmed yet (a /service/query view with status 0)
RESP_CARD_INSUFFICIENT = "20001"  # recharge: the bank card cannot pay the amount
RESP_DEPOSITORY_INSUFFICIENT = "20002"  # withdraw: the depository balance is below amount + commission
RESP_DECLINED = "20003"  # the user declined at the bank
RESP_NOT_OPENED = "20005"  # no depository account for the userNo
RESP_ALREADY_OPENED = "20006"  # register for a userNo that already has an account
RESP_EXPIRED = "20007"  # the request's expired has passed: refused when brought, or closed by a query
# (A result's status and transactionStatus: STATUS_* and TRANSACTION_STATUS above.)

RESP_REQUEST_NO_REUSED = "20008"  # /service: the requestNo was already used for a request with other fields
RESP_UNKNOWN_REQUEST = "40004"  # /service/query's signed "the bank does not know this requestNo" (status 0)

# --- the wanxin gateway request: the fields the platform signs, per service ----------------------------
GATEWAY_REQUEST_FIELDS = {
    PERSONAL_REGISTER: ("requestNo", "userNo", "fullname", "idNumber", "bankCode", "cardNumber", "mobile", "role",
                        "callbackUrl"),
    RECHARGE: ("requestNo", "userNo", "amount", "callbackUrl"),
    WITHDRAW: ("requestNo", "userNo", "amount", "commission", "cardNumber", "mobile", "callbackUrl"),
}
# ... and, in every signed request, its lifetime (yyyyMMddHHmmss, China Standard Time).
REQUEST_TIME_FIELDS = ("timestamp", "expired")
# The bank notifies results to the agent's GATEWAY_NOTIFY_PATH until it answers exactly GATEWAY_NOTIFY_RECEIPT.
GATEWAY_NOTIFY_PATH = "/gateway"
GATEWAY_NOTIFY_RECEIPT = "OK"

# --- the transaction services (section 9): the bank's POST /service, signed both ways -------------------
TRANSACTION_SERVICE_PATH = "/service"
# The fields the platform signs, per service (plus REQUEST_TIME_FIELDS), and those of each entry of `details`.
TRANSACTION_REQUEST_FIELDS = {
    CREATE_PROJECT: ("requestNo", "projectNo", "userNo", "projectAmount", "projectName", "projectPeriod", "annualRate",
                     "repaymentWay"),
    MODIFY_PROJECT: ("requestNo", "projectNo", "projectStatus"),
    PRE_TRANSACTION: ("requestNo", "userNo", "amount", "bizType", "projectNo"),
    CANCEL_PRE_TRANSACTION: ("requestNo", "preRequestNo", "userNo", "amount"),
    CONFIRM_LOAN: ("requestNo", "projectNo", "commission", "details"),
    CONFIRM_REPAYMENT: ("requestNo", "preRequestNo", "projectNo", "commission", "details"),
}
TRANSACTION_DETAIL_FIELDS = {CONFIRM_LOAN: ("preRequestNo", "amount"),
                             CONFIRM_REPAYMENT: ("userNo", "amount", "interest")}
TRANSACTION_DETAILS_MAX = 200  # entries of one confirmation's `details`
# The bank's answer: {"respData": standard Base64 of the result JSON, "signature": the bank's signature over
# those JSON bytes}; the result JSON has exactly TRANSACTION_RESULT_FIELDS (status 1 success, 2 failure).
TRANSACTION_ANSWER_FIELDS = ("respData", "signature")
TRANSACTION_RESULT_FIELDS = ("requestNo", "respCode", "respMsg", "status")
COLLECTING, FULLY = "COLLECTING", "FULLY"
PROJECT_STATUSES = (COLLECTING, FULLY, REPAYING, MISCARRY, CLEARED)
BIZ_TYPES = (TENDER, REPAYMENT)
REPAYMENT_WAYS = (FIXED_REPAYMENT, FIXED_CAPITAL)
# projectNo: 1 to 64 letters, digits, _ or -. annualRate: a fraction from 0 to 1 written one way only
# (at most 6 decimals, no trailing zero: "0.18", "0.075", "0", "1"). projectPeriod: a JSON integer of months.
PROJECT_NO_PATTERN = r"[A-Za-z0-9_-]{1,64}"
ANNUAL_RATE_PATTERN = r"0|1|0\.[0-9]{0,5}[1-9]"
PROJECT_PERIOD_MAX = 360

# --- Huifu: the bank's callbacks to bank-callback -----------------------------------------------------
USER_REGISTER, NET_SAVE = "UserRegister", "NetSave"
# The fields each command's ChkValue signs, in this order, joined without separators.
HUIFU_SIGNED_FIELDS = {
    USER_REGISTER: ("CmdId", "RespCode", "MerCustId", "UsrId", "UsrCustId", "BgRetUrl", "TrxId", "RetUrl", "MerPriv"),
    NET_SAVE: ("CmdId", "RespCode", "MerCustId", "UsrCustId", "OrdId", "OrdDate", "TransAmt", "TrxId", "RetUrl",
               "BgRetUrl", "MerPriv"),
}
# Under bank-callback's base URL: (background callback, page callback) of each command.
HUIFU_CALLBACK_PATHS = {USER_REGISTER: ("/register", "/RegisterCallback"), NET_SAVE: ("/netsave", "/NetSaveCallback")}
HUIFU_SUCCESS, HUIFU_CARD_INSUFFICIENT, HUIFU_DECLINED = "000", "351", "999"
# UsrId (the user's openid) and OrdId (a recharge's order number), as the callbacks carry them.
HUIFU_USR_ID_PATTERN = r"[A-Za-z0-9_-]{1,25}"
HUIFU_ORD_ID_PATTERN = r"[0-9]{1,30}"
# The other signed fields' patterns, each matching a whole value (bank-callback asks more of some:
# docs/bank_callback.md, Verification).
HUIFU_USR_CUST_ID_PATTERN = r"[0-9]{16}"
HUIFU_ORD_DATE_PATTERN = r"[0-9]{8}"  # yyyyMMdd, the bank's day in China Standard Time
HUIFU_TRANS_AMT_PATTERN = r"(0|[1-9][0-9]{0,15})\.([0-9]{2})"  # yuan with exactly two decimals
HUIFU_TRX_ID_PATTERN = r"[0-9]{1,18}"
HUIFU_MER_PRIV_MAX = 120  # MerPriv, echoed back: at most this many printable characters
# The RespCodes each command carries, with the text the platform shows for each (its RespDesc).
HUIFU_RESULTS = {
    USER_REGISTER: {HUIFU_SUCCESS: "开户成功", HUIFU_DECLINED: "用户取消开户"},
    NET_SAVE: {HUIFU_SUCCESS: "充值成功", HUIFU_CARD_INSUFFICIENT: "银行卡余额不足", HUIFU_DECLINED: "用户取消充值"},
}
# The web frontend's hash route a page callback sends the browser to: <frontend>#/<route>?RespCode=..&RespDesc=..
HUIFU_FRONTEND_ROUTES = {USER_REGISTER: "BankUserRegisterCallback", NET_SAVE: "NetSaveCallback"}


def huifu_receipt(trx_id: str) -> str:
    """bank-callback's answer that acknowledges a background callback: ``RECV_ORD_ID_<TrxId>``."""
    return f"RECV_ORD_ID_{trx_id}"


# --- user-center's additions for lending (service token, RestResponse) -------------------------------
# POST {mobile, fullname, idNumber} -> {userNo, depositoryStatus}: find or create the user by mobile.
UC_CONSUMERS = "/internal/consumers"
# GET -> {userNo, depositoryStatus}.
UC_CONSUMER = "/internal/consumers/{userNo}"
# POST {userNo, fullname, idNumber, mobile, bankCode, cardNumber, role, validMinutes} -> {url, expiresAt}:
# a one-time link that signs the borrower in and sends the browser to the bank's account-opening page.
UC_OPEN_ACCOUNT_LINKS = "/internal/open-account-links"
OPENED = "OPENED"
