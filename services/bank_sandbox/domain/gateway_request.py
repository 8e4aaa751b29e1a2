"""A platform's signed gateway request: verification and the checks a bank makes on its fields.

The service a request is for is bound to what was signed: the signed JSON's exact set of fields is
that service's (docs/protocols.md), whatever serviceName the URL claims, and every field has one exact
format (amounts as strings with two decimals, no surrounding spaces). A request whose ``expired`` has
passed is refused with the bank's code 20007 before anything else is looked at or stored.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from shared.errors import BadRequest
from shared.money import parse_yuan
from shared.signing import decode_wanxin, parse_wanxin_time

from bank_sandbox import keys

REGISTER, RECHARGE, WITHDRAW = "PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"
EXPIRY_FIELDS = ("timestamp", "expired")
REQUIRED_FIELDS = {
    REGISTER: ("requestNo", "userNo", "fullname", "idNumber", "bankCode", "cardNumber", "mobile", "role", "callbackUrl"),
    RECHARGE: ("requestNo", "userNo", "amount", "callbackUrl"),
    WITHDRAW: ("requestNo", "userNo", "amount", "commission", "cardNumber", "mobile", "callbackUrl"),
}
SERVICE_NAMES = tuple(REQUIRED_FIELDS)
_FIELD_SETS = {name: frozenset(fields + EXPIRY_FIELDS) for name, fields in REQUIRED_FIELDS.items()}
EXPIRED_CODE = 20007
_AMOUNT = r"(0|[1-9][0-9]{0,14})\.[0-9]{2}"
_FORMATS = {
    "requestNo": (r"REQ_[0-9A-F]{32}", "REQ_ followed by 32 upper-case hex characters"),
    "userNo": (r"USR_[0-9A-F]{32}", "USR_ followed by 32 upper-case hex characters"),
    "idNumber": (r"[0-9A-Za-z]{6,32}", "6 to 32 letters or digits"),
    "bankCode": (r"[A-Za-z0-9_]{2,20}", "2 to 20 letters, digits or _"),
    "cardNumber": (r"[0-9]{8,30}", "8 to 30 digits"),
    "mobile": (r"\+?[0-9]{6,20}", "a phone number of 6 to 20 digits"),
    "role": (r"[IB]", "I (investor) or B (borrower)"),
    "fullname": (r"[^\x00-\x1f\x7f]{1,64}", "1 to 64 characters without control characters"),
    "callbackUrl": (r"https?://[^\s]{1,1016}", "an absolute http(s) URL of at most 1024 characters"),
    "amount": (_AMOUNT, 'yuan with two decimals, such as "100.00"'),
    "commission": (_AMOUNT, 'yuan with two decimals, such as "1.00"'),
}
_PATTERNS = {name: re.compile(pattern) for name, (pattern, _) in _FORMATS.items()}


class RequestExpired(BadRequest):
    """The request's ``expired`` has passed: the bank refuses it (code 20007) and changes nothing."""

    code = EXPIRED_CODE


@dataclass(frozen=True)
class GatewayRequest:
    """A verified request: its service, its decoded JSON, the parsed amounts in fen and its expiry."""

    service_name: str
    platform_no: str
    payload: dict
    expires_at: datetime
    amount: int | None = None
    commission: int | None = None

    @property
    def request_no(self) -> str:
        return self.payload["requestNo"]

    @property
    def user_no(self) -> str:
        return self.payload["userNo"]

    @property
    def callback_url(self) -> str:
        return self.payload["callbackUrl"]


def verify(config: dict, platform_no: str, req_data: str, signature: str, service_name: str | None) -> GatewayRequest:
    """Verify the platform's signature, the expiry and the request's fields; :class:`BadRequest` names
    the problem (:class:`RequestExpired` for a stale request).

    ``service_name`` may be omitted (``/sandbox/confirm``): it is then the one service whose field set
    the signed JSON has. Given, it must be that service.
    """
    if platform_no != config["PLATFORM_NO"]:
        raise BadRequest(f"unknown platformNo {str(platform_no)[:40]!r}")
    payload = decode_wanxin(req_data, signature, keys.platform_public(config), config["SIGN_HASH"], config["MIN_KEY_BITS"])
    expires_at = check_expiry(payload, datetime.now(timezone.utc))
    service_name = _signed_service(payload, service_name)
    for name in REQUIRED_FIELDS[service_name]:
        value = payload[name]
        if not isinstance(value, str) or not _PATTERNS[name].fullmatch(value):
            raise BadRequest(f"reqData.{name} must be {_FORMATS[name][1]}")
    _check_callback_url(payload["callbackUrl"])
    amount = commission = None
    if service_name in (RECHARGE, WITHDRAW):
        amount = parse_yuan(payload["amount"], "amount", config["MAX_AMOUNT_FEN"])
    if service_name == WITHDRAW:
        commission = parse_commission(payload["commission"], config["MAX_AMOUNT_FEN"])
    return GatewayRequest(service_name, platform_no, payload, expires_at, amount, commission)


def check_expiry(payload: dict, now: datetime) -> datetime:
    """The request's expiry instant; :class:`RequestExpired` once ``now`` is past it."""
    timestamp = parse_wanxin_time(payload.get("timestamp"), "reqData.timestamp")
    expires_at = parse_wanxin_time(payload.get("expired"), "reqData.expired")
    if expires_at < timestamp:
        raise BadRequest("reqData.expired is before reqData.timestamp")
    if now > expires_at:
        raise RequestExpired(f"request expired at {payload['expired']} (China Standard Time)")
    return expires_at


def _signed_service(payload: dict, claimed: str | None) -> str:
    """The service whose exact field set the signed JSON has; it must be the claimed one, if any."""
    signed = [name for name, fields in _FIELD_SETS.items() if fields == set(payload)]
    if claimed is not None and claimed not in REQUIRED_FIELDS:
        raise BadRequest(f"unknown serviceName {str(claimed)[:40]!r}; expected one of {', '.join(SERVICE_NAMES)}")
    if not signed:
        raise BadRequest("reqData's fields are not those of any service: "
                         + "; ".join(f"{name}: {', '.join(sorted(fields))}" for name, fields in _FIELD_SETS.items()))
    if claimed is not None and signed[0] != claimed:
        raise BadRequest(f"serviceName {claimed} does not match the signed request, which is a {signed[0]}")
    return signed[0]


def parse_commission(value: str, max_fen: int) -> int:
    """A withdraw commission in fen (already format-checked): like an amount, but zero is allowed."""
    return 0 if value == "0.00" else parse_yuan(value, "commission", max_fen)


def _check_callback_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("reqData.callbackUrl must be an absolute http(s) URL")
