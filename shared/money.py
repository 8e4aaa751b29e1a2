"""Money at the edges: yuan decimal strings for people, integer fen inside the ledger.

Binary floating point never touches an amount: strings are matched by a strict pattern and
converted digit by digit.
"""
import re
from decimal import Decimal

from shared.errors import BadRequest

DEFAULT_MAX_FEN = 100_000_000  # 1,000,000.00 yuan
_YUAN = re.compile(r"(0|[1-9][0-9]{0,14})(?:\.([0-9]{1,2}))?")
_FEN = re.compile(r"[1-9][0-9]{0,17}")
_MAX_YUAN_FEN = 10**17 - 1  # the most _YUAN can spell: fifteen digits and two decimals


def parse_yuan(value, field: str = "amount", max_fen: int = DEFAULT_MAX_FEN) -> int:
    """Parse a user-facing amount such as ``"100.00"`` into fen.

    Accepts a decimal string with at most two decimals, or a JSON integer. Refuses floats,
    exponents, NaN, signs, zero and anything above ``max_fen`` with a :class:`BadRequest`.
    """
    if isinstance(value, bool) or value is None:
        raise BadRequest(f"{field} is required as a decimal string such as \"100.00\"")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a decimal string such as \"100.00\", not a {type(value).__name__}")
    match = _YUAN.fullmatch(value.strip())
    if not match:
        raise BadRequest(f"{field} must be a positive amount in yuan with at most two decimals, got {value[:32]!r}")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * 100 + int(cents)
    if fen <= 0:
        raise BadRequest(f"{field} must be greater than zero")
    if fen > max_fen:
        raise BadRequest(f"{field} must not exceed {format_fen(max_fen)}")
    return fen


def yuan_pattern(max_fen: int = DEFAULT_MAX_FEN) -> str:
    """A regular expression (the same in Python and ECMAScript, as OpenAPI documents want) for the amounts
    :func:`parse_yuan` accepts up to ``max_fen``, written plainly: digits without a leading zero, at most
    two decimals, more than zero, at most ``max_fen``."""
    whole, cents = divmod(min(max_fen, _MAX_YUAN_FEN), 100)
    if whole == 0:  # below one yuan: the few fractions up to the maximum, spelled out
        fractions = [f"{fen // 10}" if fen % 10 == 0 else f"{fen:02d}" for fen in range(1, cents + 1)]
        fractions += [f"{fen:02d}" for fen in range(10, cents + 1, 10)]
        return rf"^0\.(?:{'|'.join(fractions)})$"
    decimals = r"(?:\.[0-9]{1,2})?"
    alternatives = [r"0\.(?:0[1-9]|[1-9][0-9]?)"]  # under one yuan, zero excluded
    digits = str(whole)
    if len(digits) > 1:  # fewer digits than the maximum's whole part
        alternatives.append(rf"[1-9][0-9]{{0,{len(digits) - 2}}}{decimals}")
    for position, digit in enumerate(digits):  # as many digits, smaller from this position on
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - position - 1
            alternatives.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}]" + "[0-9]" * rest + decimals)
    top = [f"[0-{cents // 10}]", f"{cents // 10}[0-{cents % 10}]"]  # one or two decimals, at most ``cents``
    if cents >= 10:
        top.append(f"[0-{cents // 10 - 1}][0-9]")
    alternatives.append(rf"{digits}(?:\.(?:{'|'.join(top)}))?")  # the maximum's whole part
    return f"^(?:{'|'.join(alternatives)})$"


def parse_fen(value, field: str = "amount", max_fen: int = 10**15) -> int:
    """Parse a ledger amount: a positive whole number of fen, as a JSON integer or digit string."""
    if isinstance(value, bool) or value is None:
        raise BadRequest(f"{field} is required as a positive integer number of fen")
    if isinstance(value, int):
        fen = value
    elif isinstance(value, str) and _FEN.fullmatch(value.strip()):
        fen = int(value.strip())
    else:
        raise BadRequest(f"{field} must be a positive integer number of fen, got {str(value)[:32]!r}")
    if fen <= 0:
        raise BadRequest(f"{field} must be greater than zero")
    if fen > max_fen:
        raise BadRequest(f"{field} must not exceed {max_fen}")
    return fen


def format_fen(fen: int) -> str:
    """Format fen as a yuan string with two decimals: 12345 -> ``"123.45"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def yuan_to_decimal(fen: int) -> Decimal:
    """The exact ``Decimal`` of an amount in fen."""
    return Decimal(format_fen(fen))


def yuan_pattern(max_fen: int = DEFAULT_MAX_FEN, zero: bool = False) -> str:
    """A regular expression (for an OpenAPI ``pattern``) matching exactly the yuan strings from 0.01 (0 too
    with ``zero``) up to ``max_fen`` that :func:`parse_yuan` accepts in their plain form: digits without a
    leading zero, at most two decimals, no sign, exponent or spaces."""
    whole, cents = divmod(max_fen, 100)
    alternatives = [r"0(\.0{1,2})?"] if zero else []
    if max_fen >= 1:
        alternatives.append("0" + _decimals(1, min(99, max_fen), required=True))
    if whole >= 2:
        alternatives.append(f"({'|'.join(_integers(1, whole - 1))})" + r"(\.[0-9]{1,2})?")
    if whole >= 1:
        alternatives.append(str(whole) + _decimals(0, cents, required=False))
    return "^(" + "|".join(alternatives) + ")$"


def _decimals(low: int, high: int, required: bool) -> str:
    """The decimals (``.d`` meaning d0 fen, ``.dd``) whose value lies in ``low..high`` fen (0..99); none at
    all too unless ``required`` (a value of 0 fen)."""
    tenths = [d for d in range(10) if low <= d * 10 <= high]
    forms = ([_digit_range(tenths[0], tenths[-1])] if tenths else []) + _digits_between(f"{low:02d}", f"{high:02d}")
    text = r"\." + "(" + "|".join(forms) + ")"
    return text if required or low > 0 else f"({text})?"


def _integers(low: int, high: int) -> list[str]:
    """Alternatives matching exactly the whole numbers ``low..high`` (``low`` >= 1) written without a
    leading zero."""
    found = []
    while low <= high:
        top = min(high, 10 ** len(str(low)) - 1)  # the largest number with as many digits as low
        found += _digits_between(str(low), str(top))
        low = top + 1
    return found


def _digits_between(low: str, high: str) -> list[str]:
    """Alternatives matching exactly the digit strings of ``low``'s length from ``low`` to ``high``."""
    if low == high:
        return [low]
    if len(low) == 1:
        return [_digit_range(int(low), int(high))]
    if low[0] == high[0]:
        return [low[0] + rest for rest in _digits_between(low[1:], high[1:])]
    rest = len(low) - 1
    found, first, last = [], int(low[0]), int(high[0])
    if low[1:] != "0" * rest:  # low up to low[0]99..9, then the full blocks after it
        found += [low[0] + tail for tail in _digits_between(low[1:], "9" * rest)]
        first += 1
    if high[1:] != "9" * rest:
        last -= 1
    if first <= last:
        found.append(_digit_range(first, last) + ("[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"))
    if high[1:] != "9" * rest:
        found += [high[0] + tail for tail in _digits_between("0" * rest, high[1:])]
    return found


def _digit_range(first: int, last: int) -> str:
    return str(first) if first == last else f"[{first}-{last}]"
