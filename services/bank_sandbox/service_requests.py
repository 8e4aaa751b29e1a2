"""A platform's signed request to the transaction services (``POST /service``): its verification
(docs/bank_sandbox.md, "Transaction services").

The rules are the gateway requests' (:mod:`bank_sandbox.gateway_requests`): the configured platformNo,
exactly the standard Base64 of the signed bytes, one JSON reading (no repeated name), the exact field
set of the service named, every field in its one format. What the bank cannot take for the platform's
request for that service (another platform, no valid signature, the fields of another service) is
refused without the bank's signature: no one can obtain a signed refusal about a requestNo of a request
they only replayed under another serviceName. What the platform signed but is stale (20007) or
malformed (00003) gets a signed refusal that is not recorded.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from shared import contract
from shared.errors import BadRequest
from shared.money import parse_yuan
from shared.signing import decode_wanxin

from bank_sandbox.gateway_requests import RequestExpired, check_expiry, check_platform
from bank_sandbox.request_fields import check_texts, is_request_no
from bank_sandbox.service_results import Refused, bad_parameters

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

_FIELD_SETS = {name: frozenset(fields + contract.REQUEST_TIME_FIELDS)
               for name, fields in contract.TRANSACTION_REQUEST_FIELDS.items()}
_NOT_TEXT = ("projectPeriod", "details")
_POSITIVE = ("amount", "projectAmount")
_MAY_BE_ZERO = ("commission", "interest")
# Within one confirmation, a freeze (loan) or a funder (repayment) appears once.
_DETAIL_KEY = {contract.CONFIRM_LOAN: "preRequestNo", contract.CONFIRM_REPAYMENT: "userNo"}


@dataclass(frozen=True)
class ServiceRequest:
    """A verified request: its service, its signed JSON, its expiry, and its fields with amounts in fen
    (``details`` as a list of such dicts, ``annualRate`` as a Decimal)."""

    service_name: str
    platform_no: str
    payload: dict
    expires_at: datetime
    fields: dict

    @property
    def request_no(self) -> str:
        return self.payload["requestNo"]


def authenticate(config: dict, keys: "Keys", platform_no: str, service_name: str, req_data: str,
                 signature: str) -> dict:
    """The signed JSON of a request from this bank's platform for a transaction service; :class:`BadRequest`
    (answered without the bank's signature) when it is not one."""
    check_platform(config, platform_no)
    if service_name not in contract.TRANSACTION_SERVICES:
        raise BadRequest(f"unknown serviceName {str(service_name)[:40]!r}; expected one of "
                         + ", ".join(contract.TRANSACTION_SERVICES))
    return decode_wanxin(req_data, signature, keys.platform_public(), config["SIGN_HASH"], config["MIN_KEY_BITS"])


def request_no_of(payload: dict) -> str | None:
    """The signed requestNo when it is one in its format (only such a request can be recorded)."""
    value = payload.get("requestNo")
    return value if is_request_no(value) else None


def check(config: dict, service_name: str, platform_no: str, payload: dict, now: datetime) -> ServiceRequest:
    """Check a signed request at the bank's time ``now``, in this order: its lifetime (20007 once expired),
    its field set (unsigned :class:`BadRequest` when it is not the service's), its formats (00003).

    :class:`Refused` is answered signed and recorded nowhere.
    """
    try:
        expires_at = check_expiry(payload, now)
    except RequestExpired as exc:
        raise Refused(contract.RESP_EXPIRED, exc.msg) from None
    except BadRequest as exc:
        raise bad_parameters(exc.msg) from None
    if set(payload) != _FIELD_SETS[service_name]:
        missing = sorted(_FIELD_SETS[service_name] - set(payload))
        extra = sorted(set(payload) - _FIELD_SETS[service_name])
        raise BadRequest(f"reqData's fields are not those of {service_name}: "
                         + "; ".join(part for part in (f"missing {', '.join(missing)}" if missing else "",
                                                       f"not expected {', '.join(extra)[:200]}" if extra else "")
                                     if part))
    try:
        fields = _fields(config, service_name, payload)
    except BadRequest as exc:
        raise bad_parameters(exc.msg) from None
    return ServiceRequest(service_name, platform_no, payload, expires_at, fields)


def _fields(config: dict, service_name: str, payload: dict) -> dict:
    names = contract.TRANSACTION_REQUEST_FIELDS[service_name]
    check_texts(payload, [name for name in names if name not in _NOT_TEXT])
    fields = {name: payload[name] for name in names}
    _amounts(fields, config["MAX_AMOUNT_FEN"], "reqData")
    if "annualRate" in fields:
        fields["annualRate"] = Decimal(fields["annualRate"])
    if "projectPeriod" in fields:
        period = fields["projectPeriod"]
        if isinstance(period, bool) or not isinstance(period, int) or not 1 <= period <= contract.PROJECT_PERIOD_MAX:
            raise BadRequest(f"reqData.projectPeriod must be a whole number of months from 1 to "
                             f"{contract.PROJECT_PERIOD_MAX}, as a JSON number")
    if "details" in fields:
        fields["details"] = _details(config, service_name, fields["details"])
    return fields


def _details(config: dict, service_name: str, details) -> list[dict]:
    most = contract.TRANSACTION_DETAILS_MAX
    if not isinstance(details, list) or not 1 <= len(details) <= most:
        raise BadRequest(f"reqData.details must be a list of 1 to {most} entries")
    names = contract.TRANSACTION_DETAIL_FIELDS[service_name]
    parsed, seen = [], set()
    for index, detail in enumerate(details):
        where = f"reqData.details[{index}]"
        if not isinstance(detail, dict) or set(detail) != set(names):
            raise BadRequest(f"{where} must be an object with exactly {', '.join(names)}")
        check_texts(detail, names, where)
        entry = dict(detail)
        _amounts(entry, config["MAX_AMOUNT_FEN"], where)
        key = entry[_DETAIL_KEY[service_name]]
        if key in seen:
            raise BadRequest(f"{where}.{_DETAIL_KEY[service_name]} {key} is given twice")
        seen.add(key)
        parsed.append(entry)
    return parsed


def _amounts(fields: dict, max_fen: int, where: str) -> None:
    """The amounts of ``fields`` (already in their format) in fen, in place."""
    for name in _POSITIVE:
        if name in fields:
            fields[name] = parse_yuan(fields[name], f"{where}.{name}", max_fen)
    for name in _MAY_BE_ZERO:
        if name in fields:
            fields[name] = 0 if fields[name] == "0.00" else parse_yuan(fields[name], f"{where}.{name}", max_fen)
