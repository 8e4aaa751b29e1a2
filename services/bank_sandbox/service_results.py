"""The transaction services' results (docs/bank_sandbox.md, "Transaction services"): the (respCode,
respMsg) of each outcome, the result JSON and the bank's signed answer."""
from typing import TYPE_CHECKING

from shared import contract
from shared.signing import encode_wanxin

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

SUCCESS = (contract.SUCCESS_CODE, "success")


class Refused(Exception):
    """A transaction service refuses a request with ``(respCode, respMsg)``; whatever the service had done
    for it is rolled back."""

    def __init__(self, code: str, msg: str):
        super().__init__(f"{code} {msg}")
        self.result = (code, msg)


def bad_parameters(msg: str) -> Refused:
    return Refused(contract.RESP_BAD_PARAMETERS, msg)


def insufficient(msg: str) -> Refused:
    return Refused(contract.RESP_INSUFFICIENT, msg)


def no_pre_transaction(msg: str) -> Refused:
    return Refused(contract.RESP_NO_PRE_TRANSACTION, msg)


def amounts_differ(msg: str) -> Refused:
    return Refused(contract.RESP_AMOUNTS_DIFFER, msg)


def result_json(request_no: str, result: tuple[str, str], status: int | None = None) -> dict:
    """``{requestNo, respCode, respMsg, status}``; the status is 1 for success and 2 otherwise unless given."""
    code, msg = result
    if status is None:
        status = contract.STATUS_SUCCESS if result == SUCCESS else contract.STATUS_FAILURE
    return {"requestNo": request_no, "respCode": code, "respMsg": msg, "status": status}


def signed_answer(config: dict, keys: "Keys", result: dict) -> dict:
    """``{respData, signature}``: standard Base64 of the result's JSON bytes and the bank's signature over them."""
    resp_data, signature = encode_wanxin(result, keys.bank_private(), config["SIGN_HASH"])
    return {"respData": resp_data, "signature": signature}
