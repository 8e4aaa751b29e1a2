"""Hostile variants of genuine signed Huifu callbacks, for the property tests, and the documented formats.

A variant is what anyone holding one genuine callback can send (the page-callback URL a browser
follows shows every signed field): the same signed bytes cut differently (characters moved between
neighbouring signed fields, so ChkValue still verifies), the fields re-encoded (percent-escapes in
either case, '+' or %20 for a space, a '+' left raw so that it reads as a space, escapes that are
not UTF-8), their text disturbed (whitespace, full-width and other Unicode digits, leading zeros,
ChkValue in lower case), parameters repeated, renamed or dropped, re-ordered and split between the
query string and the body.

Each variant carries what a strict reader decodes from it, recorded while encoding (not parsed back),
so the tests' oracle shares nothing with the service's decoder. The formats below restate the Huifu
channel's (docs/protocols.md; docs/bank_callback.md, Verification) independently of the service's code.
"""
import http.client
import random
import re
import string
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from tests.bank_callback.huifu_messages import CALLBACK_BASE, MER_CUST_ID

ZEROS = "０٠۰०০߀๐𝟎"  # the zero of some Unicode digit blocks: zero + d is the digit d
WHITESPACE = (" ", "\t", "\n", "\r", "\u3000", "\u00a0", "\u200b", "\ufeff")
NOT_UTF8 = ("%FF", "%C4%E3", "%ED%A0%80", "%C0%AF", "%E4%BD", "%80")  # stray, GBK, surrogate, overlong, cut
LITERAL = set(string.ascii_letters + string.digits + "-._~:/@,!*()'")
NUMERIC = ("UsrCustId", "OrdId", "OrdDate", "TransAmt", "TrxId", "MerCustId", "RespCode")
PLATFORM_NO = "WANXINP2P"
MAX_FEN = 100_000_000
CST = ZoneInfo("Asia/Shanghai")


@dataclass
class Variant:
    """Raw ASCII query string and body (None: a GET), and the (name, value) pairs they decode to
    (None when some escape is not UTF-8)."""

    query: str
    body: str | None
    decoded: list[tuple[str, str]] | None
    notes: list[str] = field(default_factory=list)

    def fields(self) -> dict | None:
        """The fields a strict reader accepts: None when undecodable or a name comes twice."""
        if self.decoded is None or len({name for name, _ in self.decoded}) != len(self.decoded):
            return None
        return dict(self.decoded)


def is_genuine(decoded: dict | None, genuine: dict, order: tuple[str, ...]) -> bool:
    """True when ``decoded`` carries exactly the genuine signed fields (absent = '') and ChkValue."""
    return decoded is not None and decoded.get("ChkValue") == genuine["ChkValue"] and \
        all(decoded.get(name, "") == genuine.get(name, "") for name in order)


# -- generating variants ---------------------------------------------------------------------------------

@st.composite
def variants(draw, genuine: dict, order: tuple[str, ...], with_body: bool = True) -> Variant:
    """One hostile variant of the signed callback ``genuine`` (its ChkValue signs ``order``)."""
    notes: list[str] = []
    signed = [genuine.get(name, "") for name in order]
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(order) - 2))
        joined = signed[index] + signed[index + 1]
        cut = draw(st.integers(0, len(joined)))
        signed[index], signed[index + 1] = joined[:cut], joined[cut:]
        notes.append(f"re-cut {order[index]}|{order[index + 1]} at {cut}")
    values = {**genuine, **dict(zip(order, signed))}
    pairs = [(name, value) for name, value in values.items()]
    for _ in range(draw(st.integers(0, 2))):
        pairs = draw(_disturbed(pairs, notes))
    pairs = draw(st.permutations(pairs))
    # One variant in ten has an escape that is not UTF-8 in one of its parameters.
    broken = draw(st.integers(0, len(pairs) - 1)) if draw(st.integers(0, 9)) == 0 else None
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))  # per-character choices, unbiased
    query, body, decoded = [], [], []
    for index, (name, value) in enumerate(pairs):
        raw_name, name_read = _encode(name, rng)
        raw_value, value_read = _encode(value, rng)
        if index == broken:
            at = rng.randint(0, len(raw_value))
            raw_value, value_read = raw_value[:at] + rng.choice(NOT_UTF8) + raw_value[at:], None
            notes.append(f"escape not UTF-8 in {name}")
        (body if with_body and rng.random() < 0.6 else query).append(f"{raw_name}={raw_value}")
        decoded = None if decoded is None or value_read is None else decoded + [(name_read, value_read)]
    return Variant("&".join(query), "&".join(body) if with_body else None, decoded, notes)


@st.composite
def _disturbed(draw, pairs: list[tuple[str, str]], notes: list[str]) -> list[tuple[str, str]]:
    """``pairs`` with one disturbance of their text or of the parameters."""
    kind = draw(st.sampled_from(["whitespace", "unicode-digits", "leading-zero", "chk-case", "rename", "drop",
                                 "duplicate"]))
    index = draw(st.integers(0, len(pairs) - 1))
    name, value = pairs[index]
    if kind == "whitespace":
        space = draw(st.sampled_from(WHITESPACE))
        value = draw(st.sampled_from([space + value, value + space]))
    elif kind == "unicode-digits":
        zero = draw(st.sampled_from(ZEROS))
        digits = [at for at, char in enumerate(value) if char in string.digits]
        if digits:
            at = draw(st.sampled_from(digits))
            value = value[:at] + chr(ord(zero) + int(value[at])) + value[at + 1:]
    elif kind == "leading-zero":
        name, value = draw(st.sampled_from([pair for pair in pairs if pair[0] in NUMERIC] or [pairs[index]]))
        index = pairs.index((name, value))
        value = "0" + value
    elif kind == "chk-case":
        name, value = ([pair for pair in pairs if pair[0] == "ChkValue"] or [pairs[index]])[0]
        index = pairs.index((name, value))
        start = draw(st.integers(0, max(len(value) - 1, 0)))
        value = value[:start] + value[start:].lower()
    elif kind == "rename":
        name = draw(st.sampled_from([name.lower(), name.upper(), name + " ", " " + name]))
    elif kind == "drop":
        notes.append(f"drop {name}")
        return pairs[:index] + pairs[index + 1:]
    else:
        other = draw(st.sampled_from([value, value[1:], value + "0", ""]))
        notes.append(f"duplicate {name}")
        return pairs + [(name, other)]
    notes.append(f"{kind} {name}")
    return pairs[:index] + [(name, value)] + pairs[index + 1:]


def _encode(text: str, rng) -> tuple[str, str]:
    """``text`` form-encoded with random but faithful choices per character, and what it decodes to
    (a '+' left raw reads as a space)."""
    raw, read = [], []
    for char in text:
        choice = rng.random()
        if char == " ":
            raw.append("+" if choice < 0.5 else "%20")
            read.append(" ")
        elif char == "+" and choice < 0.3:
            raw.append("+")
            read.append(" ")
        elif char in LITERAL and choice < 0.7:
            raw.append(char)
            read.append(char)
        else:
            escapes = "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
            raw.append(escapes.lower() if rng.random() < 0.3 else escapes)
            read.append(char)
    return "".join(raw), "".join(read)


def send(base_url: str, method: str, path: str, variant: Variant) -> tuple[int, str, str]:
    """Send the variant's exact bytes; (status, body text, Location header)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        target = path + (f"?{variant.query}" if variant.query else "")
        headers = {}
        body = None
        if variant.body is not None:
            body = variant.body.encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), response.getheader("Location") or ""
    finally:
        connection.close()


# -- the documented formats, and how many readings signed bytes have under them ---------------------------

def bank_day() -> date:
    """The bank's business day (China Standard Time)."""
    return datetime.now(CST).date()


def spec_formats(command: str, today: date) -> dict:
    """Each signed field's format for ``command`` on ``today``: name -> (longest, check(value, read so far))."""
    background, page = {"UserRegister": ("/register", "/RegisterCallback"),
                        "NetSave": ("/netsave", "/NetSaveCallback")}[command]
    codes = {"UserRegister": {"000", "999"}, "NetSave": {"000", "351", "999"}}[command]

    def ord_date(value, _):
        try:
            day = datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            return False
        return re.fullmatch(r"[0-9]{8}", value) is not None and abs((day - today).days) <= 1

    def trans_amt(value, _):
        match = re.fullmatch(r"(0|[1-9][0-9]*)\.([0-9]{2})", value)
        return match is not None and 0 < int(match[1]) * 100 + int(match[2]) <= MAX_FEN

    def usr_cust_id(value, read):
        failed_register = command == "UserRegister" and read.get("RespCode") != "000"
        return re.fullmatch(r"[0-9]{16}", value) is not None or (value == "" and failed_register)

    def digits(low, high):
        return high, lambda value, _: re.fullmatch(f"[0-9]{{{low},{high}}}", value) is not None

    return {
        "CmdId": (len(command), lambda value, _: value == command),
        "RespCode": (3, lambda value, _: value in codes),
        "MerCustId": (16, lambda value, _: value == MER_CUST_ID),
        "UsrId": (25, lambda value, _: re.fullmatch(r"[A-Za-z0-9_-]{1,25}", value) is not None
                  and value != PLATFORM_NO),
        "UsrCustId": (16, usr_cust_id),
        "OrdId": digits(1, 30),
        "OrdDate": (8, ord_date),
        "TransAmt": (20, trans_amt),
        "TrxId": digits(1, 18),
        "BgRetUrl": (len(CALLBACK_BASE + background), lambda value, _: value == CALLBACK_BASE + background),
        "RetUrl": (len(CALLBACK_BASE + page), lambda value, _: value == CALLBACK_BASE + page),
        "MerPriv": (120, lambda value, _: len(value) <= 120 and value.isprintable()),
    }


def readings(command: str, order: tuple[str, ...], values: list[str], today: date) -> list[dict]:
    """Every way (up to two) the concatenation of ``values`` splits into ``order``'s fields in format."""
    formats = spec_formats(command, today)
    joined = "".join(values)
    found: list[dict] = []

    def walk(index: int, start: int, read: dict) -> None:
        if len(found) == 2:
            return
        if index == len(order):
            if start == len(joined):
                found.append(read)
            return
        longest, check = formats[order[index]]
        for end in range(start, min(len(joined), start + longest) + 1):
            if check(joined[start:end], read):
                walk(index + 1, end, {**read, order[index]: joined[start:end]})

    walk(0, 0, {})
    return found
