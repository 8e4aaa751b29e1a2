"""The identifiers and messages two services exchange, defined once and used by both sides.

The wire formats themselves are described in docs/protocols.md; the partner's envelope is
:mod:`shared.partner_envelope`, the wanxin and Huifu signatures :mod:`shared.signing`.
"""
import re

from shared.config import read_key_file

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
# A result's status: 0 pending (only in a query's view), STATUS_SUCCESS 1, STATUS_FAILURE 2; a recharge's or
# withdraw's result also says it as transactionStatus.
STATUS_PENDING = 0
TRANSACTION_STATUS = {STATUS_PENDING: "PENDING", STATUS_SUCCESS: "SUCCESS", STATUS_FAILURE: "FAIL"}

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
# An amount as the wanxin messages carry it: yuan with exactly two decimals, as a string ("100.00").
AMOUNT_PATTERN = r"(0|[1-9][0-9]{0,14})\.[0-9]{2}"
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
TRANSACTION_SERVICES = tuple(TRANSACTION_REQUEST_FIELDS)
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
HUIFU_MER_PRIV_MAX = 120  # MerPriv, echoed back: at most this many printable characters
# The RespCodes each command carries, with the text the platform shows for each (its RespDesc).
HUIFU_RESULTS = {
    USER_REGISTER: {HUIFU_SUCCESS: "开户成功", HUIFU_DECLINED: "用户取消开户"},
    NET_SAVE: {HUIFU_SUCCESS: "充值成功", HUIFU_CARD_INSUFFICIENT: "银行卡余额不足", HUIFU_DECLINED: "用户取消充值"},
}


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
