"""The bank's wanxin notification JSON and its signed form (docs/protocols.md)."""
from shared.signing import encode_wanxin

from bank_sandbox import keys
from bank_sandbox.domain.gateway_request import REGISTER

SUCCESS_CODE = "00000"
PENDING = ("10000", "waiting for the user's confirmation at the bank")
CARD_INSUFFICIENT = ("20001", "bank card balance insufficient")
BANK_INSUFFICIENT = ("20002", "depository account balance insufficient")
DECLINED = ("20003", "cancelled by the user at the bank")
NOT_OPENED = ("20005", "depository account not opened")
ALREADY_OPENED = ("20006", "depository account already opened")
EXPIRED = ("20007", "request expired before it was confirmed")
SUCCESS = (SUCCESS_CODE, "success")

BANK_NAMES = {
    "ICBK": "中国工商银行", "ABOC": "中国农业银行", "BKCH": "中国银行", "PCBC": "中国建设银行",
    "COMM": "交通银行", "CMBC": "招商银行", "PSBC": "中国邮政储蓄银行", "CIBK": "中信银行",
    "MSBC": "中国民生银行", "EVER": "中国光大银行", "SPDB": "上海浦东发展银行", "FJIB": "兴业银行",
    "GDBK": "广发银行", "SZDB": "平安银行", "HXBK": "华夏银行",
}
_TRANSACTION_STATUS = {0: "PENDING", 1: "SUCCESS", 2: "FAIL"}


def bank_name(bank_code: str) -> str:
    """The bank's name for a code; an unknown code is named after itself."""
    return BANK_NAMES.get(bank_code.upper(), f"Bank {bank_code}")


def notification(service_name: str, payload: dict, status: int, result: tuple[str, str]) -> dict:
    """The notification JSON for a request in ``status`` (0 pending, 1 success, 2 failure)."""
    resp_code, resp_msg = result
    body = {"requestNo": payload["requestNo"], "respCode": resp_code, "respMsg": resp_msg, "status": status}
    if service_name == REGISTER:
        body.update(bankCode=payload["bankCode"], bankName=bank_name(payload["bankCode"]))
    else:
        # the request's amount exactly as the platform signed it (always "100.00" form)
        body.update(transactionStatus=_TRANSACTION_STATUS[status], amount=payload["amount"])
    return body


def signed(config: dict, service_name: str, body: dict) -> dict:
    """``{serviceName, platformNo, reqData, signature}`` with ``body`` signed by the bank's key."""
    req_data, signature = encode_wanxin(body, keys.bank_private(config), config["SIGN_HASH"])
    return {"serviceName": service_name, "platformNo": config["PLATFORM_NO"], "reqData": req_data, "signature": signature}
