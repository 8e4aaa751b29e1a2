"""The one format of every text field the platform signs, in gateway requests and in the transaction
services' requests alike: one spelling per value (amounts with exactly two decimals, no surrounding
spaces, enumerations exactly), so that a signature buys exactly one meaning."""
import re

from shared import contract
from shared.errors import BadRequest

_AMOUNT = (contract.AMOUNT_PATTERN, 'yuan with two decimals, such as "100.00"')
_REQUEST_NO = (contract.REQUEST_NO_PATTERN, contract.REQUEST_NO_RULE)
FORMATS = {
    "requestNo": _REQUEST_NO,
    "preRequestNo": _REQUEST_NO,
    "userNo": (contract.USER_NO_PATTERN, contract.USER_NO_RULE),
    "idNumber": (r"[0-9A-Za-z]{6,32}", "6 to 32 letters or digits"),
    "bankCode": (r"[A-Za-z0-9_]{2,20}", "2 to 20 letters, digits or _"),
    "cardNumber": (r"[0-9]{8,30}", "8 to 30 digits"),
    "mobile": (r"\+?[0-9]{6,20}", "a phone number of 6 to 20 digits"),
    "role": (r"[IB]", "I (investor) or B (borrower)"),
    "fullname": (r"[^\x00-\x1f\x7f]{1,64}", "1 to 64 characters without control characters"),
    "callbackUrl": (r"https?://[^\s]{1,1016}", "an absolute http(s) URL of at most 1024 characters"),
    "amount": _AMOUNT,
    "projectAmount": _AMOUNT,
    "commission": (contract.AMOUNT_PATTERN, 'yuan with two decimals, such as "1.00" (or "0.00")'),
    "interest": (contract.AMOUNT_PATTERN, 'yuan with two decimals, such as "1.00" (or "0.00")'),
    "projectNo": (contract.PROJECT_NO_PATTERN, "1 to 64 letters, digits, _ or -"),
    "projectName": (r"[^\x00-\x1f\x7f]{1,100}", "1 to 100 characters without control characters"),
    "annualRate": (contract.ANNUAL_RATE_PATTERN,
                   'a fraction from 0 to 1 with at most 6 decimals and no trailing zero, such as "0.18"'),
    "repaymentWay": ("|".join(contract.REPAYMENT_WAYS), " or ".join(contract.REPAYMENT_WAYS)),
    "projectStatus": ("|".join(contract.PROJECT_STATUSES), "one of " + ", ".join(contract.PROJECT_STATUSES)),
    "bizType": ("|".join(contract.BIZ_TYPES), " or ".join(contract.BIZ_TYPES)),
}
_PATTERNS = {name: re.compile(pattern) for name, (pattern, _) in FORMATS.items()}


def check_texts(fields: dict, names, where: str = "reqData") -> None:
    """Each of ``names`` in ``fields`` is a string in its one format; :class:`BadRequest` names the first
    that is not."""
    for name in names:
        value = fields[name]
        if not isinstance(value, str) or not _PATTERNS[name].fullmatch(value):
            raise BadRequest(f"{where}.{name} must be {FORMATS[name][1]}")


def is_request_no(value) -> bool:
    """Whether ``value`` is a requestNo in its one format."""
    return isinstance(value, str) and _PATTERNS["requestNo"].fullmatch(value) is not None
