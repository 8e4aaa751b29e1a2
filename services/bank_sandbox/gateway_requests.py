"""A platform's signed gateway request: verification and the checks a bank makes on its fields
(docs/bank_sandbox.md, "Wanxin rules").

The service a request is for is bound to what was signed: the signed JSON's exact set of fields is
that service's (:data:`shared.contract.GATEWAY_REQUEST_FIELDS` plus its lifetime), whatever
serviceName the URL claims, and every field has one exact format (:mod:`bank_sandbox.request_fields`:
amounts as strings with two decimals, no surrounding spaces). A request whose ``expired`` has passed
is refused with the bank's code 20007 before anything else is looked at or stored.
"""
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared import contract
from shared.errors import BadRequest
from shared.money import parse_yuan
from shared.signing import decode_wanxin, parse_wanxin_time

from bank_sandbox.request_fields import check_texts

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

_FIELD_SETS = {name: frozenset(fields + contract.REQUEST_TIME_FIELDS)
               for name, fields in contract.GATEWAY_REQUEST_FIELDS.items()}
EXPIRED_CODE = int(contract.RESP_EXPIRED)


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


def verify(config: dict, keys: "Keys", platform_no: str, req_data: str, signature: str,
           service_name: str | None) -> GatewayRequest:
    """Verify the platform's signature, the expiry and the request's fields; :class:`BadRequest` names
    the problem (:class:`RequestExpired` for a stale request).

    ``service_name`` may be omitted (``/sandbox/confirm``): it is then the one service whose field set
    the signed JSON has. Given, it must be that service.
    """
    check_platform(config, platform_no)
    payload = decode_wanxin(req_data, signature, keys.platform_public(), config["SIGN_HASH"], config["MIN_KEY_BITS"])
    expires_at = check_expiry(payload, datetime.now(timezone.utc))
    service_name = _signed_service(payload, service_name)
    check_texts(payload, contract.GATEWAY_REQUEST_FIELDS[service_name])
    _check_callback_url(payload["callbackUrl"])
    amount = commission = None
    if service_name in (contract.RECHARGE, contract.WITHDRAW):
        amount = parse_yuan(payload["amount"], "amount", config["MAX_AMOUNT_FEN"])
    if service_name == contract.WITHDRAW:
        commission = parse_commission(payload["commission"], config["MAX_AMOUNT_FEN"])
    return GatewayRequest(service_name, platform_no, payload, expires_at, amount, commission)


def check_platform(config: dict, platform_no: str) -> None:
    """Only the configured platform (``PLATFORM_NO``) is this bank's customer."""
    if platform_no != config["PLATFORM_NO"]:
        raise BadRequest(f"unknown platformNo {str(platform_no)[:40]!r}")


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
    if claimed is not None and claimed not in contract.GATEWAY_SERVICES:
        raise BadRequest(f"unknown serviceName {str(claimed)[:40]!r}; "
                         f"expected one of {', '.join(contract.GATEWAY_SERVICES)}")
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
