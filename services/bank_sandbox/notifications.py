"""The bank's wanxin results: the notification JSON, its signed form, and the (respCode, respMsg) of each
outcome (docs/bank_sandbox.md, "Wanxin rules")."""
from typing import TYPE_CHECKING

from shared import contract
from shared.signing import encode_wanxin

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

SUCCESS = (contract.SUCCESS_CODE, "success")
PENDING = (contract.RESP_PENDING, "waiting for the user's confirmation at the bank")
CARD_INSUFFICIENT = (contract.RESP_CARD_INSUFFICIENT, "bank card balance insufficient")
BANK_INSUFFICIENT = (contract.RESP_DEPOSITORY_INSUFFICIENT, "depository account balance insufficient")
DECLINED = (contract.RESP_DECLINED, "cancelled by the user at the bank")
NOT_OPENED = (contract.RESP_NOT_OPENED, "depository account not opened")
ALREADY_OPENED = (contract.RESP_ALREADY_OPENED, "depository account already opened")
EXPIRED = (contract.RESP_EXPIRED, "request expired before it was confirmed")

BANK_NAMES = {
    "ICBK": "中国工商银行", "ABOC": "中国农业银行", "BKCH": "中国银行", "PCBC": "中国建设银行",
    "COMM": "交通银行", "CMBC": "招商银行", "PSBC": "中国邮政储蓄银行", "CIBK": "中信银行",
    "MSBC": "中国民生银行", "EVER": "中国光大银行", "SPDB": "上海浦东发展银行", "FJIB": "兴业银行",
    "GDBK": "广发银行", "SZDB": "平安银行", "HXBK": "华夏银行",
}


def bank_name(bank_code: str) -> str:
    """The bank's name for a code; an unknown code is named after itself."""
    return BANK_NAMES.get(bank_code.upper(), f"Bank {bank_code}")


def notification(service_name: str, payload: dict, status: int, result: tuple[str, str]) -> dict:
    """The notification JSON for a request in ``status`` (0 pending, 1 success, 2 failure)."""
    resp_code, resp_msg = result
    body = {"requestNo": payload["requestNo"], "respCode": resp_code, "respMsg": resp_msg, "status": status}
    if service_name == contract.PERSONAL_REGISTER:
        body.update(bankCode=payload["bankCode"], bankName=bank_name(payload["bankCode"]))
    else:
        # the request's amount exactly as the platform signed it (always "100.00" form)
        body.update(transactionStatus=contract.TRANSACTION_STATUS[status], amount=payload["amount"])
    return body


def status_of(result: tuple[str, str]) -> int:
    """The status a final result gives its request: 1 for success, 2 for any failure."""
    return contract.STATUS_SUCCESS if result == SUCCESS else contract.STATUS_FAILURE


def signed(config: dict, keys: "Keys", service_name: str, body: dict) -> dict:
    """``{serviceName, platformNo, reqData, signature}`` with ``body`` signed by the bank's key."""
    req_data, signature = encode_wanxin(body, keys.bank_private(), config["SIGN_HASH"])
    return {"serviceName": service_name, "platformNo": config["PLATFORM_NO"], "reqData": req_data,
            "signature": signature}
