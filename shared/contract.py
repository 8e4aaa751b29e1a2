"""The identifiers and messages two services exchange, defined once and used by both sides.

The wire formats themselves are described in docs/protocols.md; the partner's envelope is
:mod:`shared.partner_envelope`, the wanxin and Huifu signatures :mod:`shared.signing`.
"""
import re
import secrets

from shared.config import read_key_file

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
# respCode of a successful bank result; notification status 1 success, 2 failure.
SUCCESS_CODE = "00000"
STATUS_SUCCESS, STATUS_FAILURE = 1, 2
# The agent publishes every final bank result here, routing key = serviceName.
GATEWAY_NOTIFY_EXCHANGE = "depository.gateway-notify"


def result_message_id(service_name: str, request_no: str) -> str:
    """The ``message_id`` of a published bank result: ``<serviceName>:<requestNo>``."""
    return f"{service_name}:{request_no}"


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
