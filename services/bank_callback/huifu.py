"""The Huifu protocol (docs/protocols.md, the Huifu channel): which fields each command signs, their one
exact format, and the checks every callback passes before anything trusts it.

ChkValue signs the signed fields joined WITHOUT separators, so the signature alone does not say
where one field ends and the next begins: moving characters between neighbours keeps it valid.
A callback therefore counts as signed only when

1. every signed field has its exact format (:data:`FORMATS`: digits only where a number is meant,
   the configured URLs, the known codes, today's date), so the received split is one reading
   of the signed bytes under those formats;
2. ChkValue, upper-case hex of the key's size, verifies over those bytes;
3. that reading is the ONLY one: no other split of the same bytes satisfies the formats
   (:meth:`Verifier.readings`); an ambiguous callback cannot say which fields the bank meant.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable
from zoneinfo import ZoneInfo

from shared import contract
from shared.config import key_path
from shared.errors import BadRequest
from shared.money import format_fen
from shared.signing import RsaKey, load_key, verify_huifu

from bank_callback.anomalies import Anomaly

SUCCESS = contract.HUIFU_SUCCESS
SIGNATURE_INVALID = 910
FORMAT_INVALID = 911
AMBIGUOUS = 912
HASHES = ("SHA256", "MD5", "SHA1")
WEAK_HASHES = ("MD5", "SHA1")
# OrdDate is the bank's business day in China Standard Time.
BANK_TIMEZONE = ZoneInfo("Asia/Shanghai")
MER_PRIV_MAX = contract.HUIFU_MER_PRIV_MAX


@dataclass(frozen=True)
class Command:
    """A Huifu command (``CmdId``): the fields its ChkValue signs in order, the paths of its two
    callbacks, the RespCodes it can carry with the text the platform shows for each, and the
    frontend route its page callback sends the browser to."""

    name: str
    signed_fields: tuple[str, ...]
    background_path: str
    page_path: str
    resp_codes: dict[str, str]
    frontend_route: str

    @classmethod
    def of(cls, name: str) -> "Command":
        """The command ``name`` as the contract defines it."""
        background_path, page_path = contract.HUIFU_CALLBACK_PATHS[name]
        return cls(name, contract.HUIFU_SIGNED_FIELDS[name], background_path, page_path, contract.HUIFU_RESULTS[name],
                   contract.HUIFU_FRONTEND_ROUTES[name])


USER_REGISTER = Command.of(contract.USER_REGISTER)
NET_SAVE = Command.of(contract.NET_SAVE)

# The pattern a whole value of these fields matches; their formats (FORMATS) may ask more of them.
PATTERNS = {"UsrId": contract.HUIFU_USR_ID_PATTERN, "UsrCustId": contract.HUIFU_USR_CUST_ID_PATTERN,
            "OrdId": contract.HUIFU_ORD_ID_PATTERN, "OrdDate": contract.HUIFU_ORD_DATE_PATTERN,
            "TransAmt": contract.HUIFU_TRANS_AMT_PATTERN, "TrxId": contract.HUIFU_TRX_ID_PATTERN}
_REGEX = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}
_UPPER_HEX = re.compile(r"[0-9A-F]+")


@dataclass(frozen=True)
class Rules:
    """What the formats depend on: this platform's settings and the bank's current day."""

    command: Command
    mer_cust_id: str
    platform_no: str
    background_url: str
    page_url: str
    max_fen: int
    today: date


# A format check: (value, the fields read before it, the rules) -> the reason it is wrong, or None.
Check = Callable[[str, dict, Rules], str | None]


def _exactly(expected: Callable[[Rules], str], what: str) -> Check:
    return lambda value, _, rules: None if value == expected(rules) else f"must be {what}"


def _resp_code(value: str, _, rules: Rules) -> str | None:
    known = rules.command.resp_codes
    return None if value in known else f"must be one of {', '.join(sorted(known))}"


def _usr_id(value: str, _, rules: Rules) -> str | None:
    if not _REGEX["UsrId"].fullmatch(value):
        return "(openid) must be 1 to 25 letters, digits, '_' or '-'"
    if value == rules.platform_no:
        return "(openid) must not be the platform's own ledger account"
    return None


def _usr_cust_id(value: str, read: dict, rules: Rules) -> str | None:
    # A failed UserRegister may carry no customer: the bank opened none.
    if value == "" and rules.command is USER_REGISTER and read.get("RespCode") != SUCCESS:
        return None
    return None if _REGEX["UsrCustId"].fullmatch(value) else "must be 16 digits"


def _pattern(name: str, what: str) -> Check:
    return lambda value, _, rules: None if _REGEX[name].fullmatch(value) else f"must be {what}"


def _ord_date(value: str, _, rules: Rules) -> str | None:
    if not _REGEX["OrdDate"].fullmatch(value):
        return "must be 8 digits (yyyyMMdd)"
    try:
        day = datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return "must be a real date (yyyyMMdd)"
    if abs((day - rules.today).days) > 1:
        return f"must be within a day of today ({rules.today:%Y%m%d})"
    return None


def _trans_amt(value: str, _, rules: Rules) -> str | None:
    match = _REGEX["TransAmt"].fullmatch(value)
    if not match:
        return "must be digits with exactly two decimals, without leading zeros (\"100.00\")"
    fen = int(match.group(1)) * 100 + int(match.group(2))
    if not 0 < fen <= rules.max_fen:
        return f"must be more than 0.00 and at most {format_fen(rules.max_fen)}"
    return None


def _mer_priv(value: str, _, rules: Rules) -> str | None:
    if len(value) > MER_PRIV_MAX or not value.isprintable():
        return f"must be at most {MER_PRIV_MAX} printable characters"
    return None


# Every signed field's one format; a field absent from the callback is read as ''.
FORMATS: dict[str, Check] = {
    "CmdId": _exactly(lambda rules: rules.command.name, "the endpoint's command"),
    "RespCode": _resp_code,
    "MerCustId": _exactly(lambda rules: rules.mer_cust_id, "this platform's merchant customer id"),
    "UsrId": _usr_id,
    "UsrCustId": _usr_cust_id,
    "OrdId": _pattern("OrdId", "1 to 30 digits"),
    "OrdDate": _ord_date,
    "TransAmt": _trans_amt,
    "TrxId": _pattern("TrxId", "1 to 18 digits"),
    "BgRetUrl": _exactly(lambda rules: rules.background_url, "the configured background callback URL"),
    "RetUrl": _exactly(lambda rules: rules.page_url, "the configured page callback URL"),
    "MerPriv": _mer_priv,
}


class Verifier:
    """Checks callbacks against the Huifu public key and this platform's settings."""

    def __init__(self, public_key: RsaKey, hash_name: str, settings: dict):
        self.public_key = public_key
        self.hash_name = hash_name
        self.min_bits = settings["MIN_KEY_BITS"]
        self.mer_cust_id = settings["HUIFU_MER_CUST_ID"]
        self.platform_no = settings["PLATFORM_NO"]
        self.callback_url = settings["HUIFU_CALLBACK_URL"]
        self.max_fen = settings["MAX_AMOUNT_FEN"]
        self.chk_value_length = public_key.key_size // 4  # hex digits of a signature by this key

    @classmethod
    def from_config(cls, config: dict) -> "Verifier":
        """The verifier of ``config``: key from HUIFU_PUBLIC_KEY_PATH (or KEYS_DIR), HUIFU_SIGN_HASH.

        In production a weak hash (MD5, SHA1) is refused unless HUIFU_ALLOW_WEAK_HASH names it.
        """
        hash_name = config["HUIFU_SIGN_HASH"].upper()
        if hash_name not in HASHES:
            raise ValueError(f"HUIFU_SIGN_HASH must be one of {', '.join(HASHES)}, not {config['HUIFU_SIGN_HASH']!r}")
        if config["PRODUCTION"] and hash_name in WEAK_HASHES and config["HUIFU_ALLOW_WEAK_HASH"].upper() != hash_name:
            raise ValueError(f"HUIFU_SIGN_HASH={hash_name} is weak: in production set HUIFU_ALLOW_WEAK_HASH="
                             f"{hash_name} to confirm that the bank signs with it")
        path = key_path(config, "HUIFU_PUBLIC_KEY_PATH", "huifu_public.pem")
        return cls(load_key(path, config["MIN_KEY_BITS"]), hash_name, config)

    def rules(self, command: Command, today: date | None = None) -> Rules:
        """The formats' settings for ``command`` on the bank's day ``today`` (default: now, in CST)."""
        return Rules(command, self.mer_cust_id, self.platform_no, self.callback_url + command.background_path,
                     self.callback_url + command.page_path, self.max_fen,
                     today or datetime.now(BANK_TIMEZONE).date())

    def verify(self, command: Command, fields: dict[str, str]) -> dict[str, str]:
        """Return ``fields`` once they are proven to be exactly what the bank signed.

        Raises :class:`BadRequest`: 911 a signed field out of its format, 910 a missing, malformed
        or wrong ChkValue; and :class:`Anomaly` 912 when the bank's signature covers bytes that read
        as more than one field set (recorded for an operator: the bank did sign it).
        """
        rules = self.rules(command)
        values = [fields.get(name, "") for name in command.signed_fields]
        read: dict[str, str] = {}
        for name, value in zip(command.signed_fields, values):
            reason = FORMATS[name](value, read, rules)
            if reason:
                raise BadRequest(f"{name} {reason}", code=FORMAT_INVALID)
            read[name] = value
        chk_value = fields.get("ChkValue", "")
        if len(chk_value) != self.chk_value_length or not _UPPER_HEX.fullmatch(chk_value):
            raise BadRequest(f"ChkValue must be {self.chk_value_length} upper-case hex digits", code=SIGNATURE_INVALID)
        if not verify_huifu(self.public_key, values, chk_value, self.hash_name, self.min_bits):
            raise BadRequest(f"ChkValue does not verify over {' '.join(command.signed_fields)}",
                             code=SIGNATURE_INVALID)
        if self.readings("".join(values), rules, limit=2) != 1:
            raise Anomaly("ambiguous", f"the signed fields {' '.join(command.signed_fields)} can be read from the"
                                       " same bytes in more than one way; refused", status=400, code=AMBIGUOUS)
        return fields

    @staticmethod
    def readings(signed: str, rules: Rules, limit: int) -> int:
        """How many ways (counting up to ``limit``) ``signed`` splits into the command's fields, each in
        its format: a depth-first search over every field's possible lengths."""
        names = rules.command.signed_fields
        found = 0

        def walk(index: int, start: int, read: dict) -> None:
            nonlocal found
            if found >= limit:
                return
            if index == len(names):
                found += start == len(signed)
                return
            ends = [len(signed)] if index == len(names) - 1 else range(start, len(signed) + 1)
            for end in ends:
                value = signed[start:end]
                if FORMATS[names[index]](value, read, rules) is None:
                    walk(index + 1, end, {**read, names[index]: value})

        walk(0, 0, {})
        return found


def is_success(fields: dict) -> bool:
    """True when the bank reports the operation as successful (RespCode 000)."""
    return fields.get("RespCode") == SUCCESS


def signed_values(command: Command, fields: dict) -> dict[str, str]:
    """The signed fields of a callback by name, an absent one as ''."""
    return {name: fields.get(name, "") for name in command.signed_fields}


def receipt(fields: dict) -> str:
    """The exact acknowledgement the bank waits for: ``RECV_ORD_ID_<TrxId>``."""
    return contract.huifu_receipt(fields["TrxId"])

