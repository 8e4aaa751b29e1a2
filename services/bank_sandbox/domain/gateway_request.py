"""A platform's signed gateway request: verification and the checks a bank makes on its fields."""
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import BadRequest
from shared.money import parse_yuan
from shared.signing import decode_wanxin

from bank_sandbox import keys

REGISTER, RECHARGE, WITHDRAW = "PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"
REQUIRED_FIELDS = {
    REGISTER: ("requestNo", "userNo", "fullname", "idNumber", "bankCode", "cardNumber", "mobile", "role", "callbackUrl"),
    RECHARGE: ("requestNo", "userNo", "amount", "callbackUrl"),
    WITHDRAW: ("requestNo", "userNo", "amount", "commission", "cardNumber", "mobile", "callbackUrl"),
}
SERVICE_NAMES = tuple(REQUIRED_FIELDS)
_IDENTIFIER = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_MAX_FIELD = 255
_ZERO = re.compile(r"0+(\.0{1,2})?")


@dataclass(frozen=True)
class GatewayRequest:
    """A verified request: its service, its decoded JSON and the parsed amounts in fen."""

    service_name: str
    platform_no: str
    payload: dict
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
    """Verify the platform's signature and the request's fields; :class:`BadRequest` names the problem.

    ``service_name`` may be omitted (``/sandbox/confirm``): it is then inferred from the fields.
    """
    if platform_no != config["PLATFORM_NO"]:
        raise BadRequest(f"unknown platformNo {str(platform_no)[:40]!r}")
    payload = decode_wanxin(req_data, signature, keys.platform_public(config), config["SIGN_HASH"], config["MIN_KEY_BITS"])
    service_name = service_name or infer_service_name(payload)
    if service_name not in REQUIRED_FIELDS:
        raise BadRequest(f"unknown serviceName {str(service_name)[:40]!r}; expected one of {', '.join(SERVICE_NAMES)}")
    _check_fields(service_name, payload)
    amount = commission = None
    if service_name in (RECHARGE, WITHDRAW):
        amount = parse_yuan(payload["amount"], "amount", config["MAX_AMOUNT_FEN"])
    if service_name == WITHDRAW:
        commission = parse_commission(payload["commission"], config["MAX_AMOUNT_FEN"])
    return GatewayRequest(service_name, platform_no, payload, amount, commission)


def infer_service_name(payload: dict) -> str:
    """The service a request is for, from its fields: register carries idNumber, withdraw commission."""
    if "idNumber" in payload:
        return REGISTER
    if "commission" in payload:
        return WITHDRAW
    return RECHARGE


def parse_commission(value, max_fen: int) -> int:
    """A withdraw commission in fen: like an amount, but zero is allowed."""
    if isinstance(value, str) and _ZERO.fullmatch(value.strip()):
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return 0
    return parse_yuan(value, "commission", max_fen)


def _check_fields(service_name: str, payload: dict) -> None:
    if "\\u0000" in json.dumps(payload):
        raise BadRequest("reqData must not contain NUL characters")
    for name in REQUIRED_FIELDS[service_name]:
        value = payload.get(name)
        if name in ("amount", "commission") and isinstance(value, int) and not isinstance(value, bool):
            continue
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"reqData.{name} is required")
        if len(value) > _MAX_FIELD and name != "callbackUrl":
            raise BadRequest(f"reqData.{name} is longer than {_MAX_FIELD} characters")
    for name in ("requestNo", "userNo"):
        if not _IDENTIFIER.fullmatch(payload[name]):
            raise BadRequest(f"reqData.{name} must be 1 to 64 letters, digits, '_' or '-'")
    if service_name == REGISTER and payload["role"] not in ("I", "B"):
        raise BadRequest("reqData.role must be I (investor) or B (borrower)")
    _check_callback_url(payload["callbackUrl"])


def _check_callback_url(url: str) -> None:
    parts = urlsplit(url)
    if len(url) > 2048 or parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("reqData.callbackUrl must be an absolute http(s) URL")
