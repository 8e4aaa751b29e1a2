"""The rules of ledger parameters, worded as the API answers them.

One implementation serves the schemas of the API (api/schemas.py: the OpenAPI document and every request),
each operation of a batch and the library's use cases, so every way in refuses the same input with the same
message. Whole numbers arrive as JSON integers or, in query strings and forms, as digit strings; a fraction
("1.5"), a float, an exponent, a sign or a bool is refused, never rounded.
"""
import re
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from shared.errors import BadRequest

# The largest amount, credit, capacity or number of uses accepted (fen or uses), unless LEDGER_MAX_AMOUNT says.
MAX_AMOUNT = 10**12
DIGITS = re.compile(r"0|[1-9][0-9]{0,18}")
# Identifiers: 1-64 characters, no whitespace, control characters or lone surrogates (PostgreSQL text
# can hold neither NUL nor a surrogate; shared.inputs refuses both at the edge already). Whitespace is
# spelled out (Python's \s for text) so that the OpenAPI document's ECMA-262 pattern means the same.
VISIBLE = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ud800-\udfff]"
IDENTIFIER = re.compile(rf"\A{VISIBLE}{{1,64}}\Z")
# Trade numbers, the same characters, up to 128: a repayment's is ``<requestNo>:<userNo>`` (73 characters).
TRADE_NUMBER = re.compile(rf"\A{VISIBLE}{{1,128}}\Z")
MISSING = "Missing data for required field."
NULL = "Field may not be null."
NOT_A_STRING = "Not a valid string."
IDENTIFIER_RULE = "must be 1-64 characters without spaces"
TRADE_NUMBER_RULE = "must be 1-128 characters without spaces"
_ABSENT = object()

Rules = Sequence[tuple[str, Callable[[Any], Any]]]


def whole_number(value: Any, minimum: int, maximum: int) -> int:
    """``value`` as an int within ``minimum..maximum``; ValueError with the reason otherwise."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError(f"must be a whole number, got {str(value)[:32]!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"must be between {minimum} and {maximum}")
    return value


def identifier(value: Any) -> str:
    """An eid or spkg_id; ValueError with the reason otherwise."""
    return _matching(value, IDENTIFIER, IDENTIFIER_RULE)


def trade_number(value: Any) -> str:
    """A trade number (the idempotency key of a posting); ValueError with the reason otherwise."""
    return _matching(value, TRADE_NUMBER, TRADE_NUMBER_RULE)


def _matching(value: Any, pattern: re.Pattern, rule: str) -> str:
    if not isinstance(value, str):
        raise ValueError(NOT_A_STRING)
    if not pattern.match(value):
        raise ValueError(rule)
    return value


def label_pattern(length: int) -> re.Pattern:
    """A display name or label: at most ``length`` characters, no control characters or lone surrogates."""
    return re.compile(rf"\A[^\x00-\x1f\x7f\ud800-\udfff]{{0,{length}}}\Z")


def label(length: int) -> Callable[[Any], str]:
    """A parser of labels of at most ``length`` characters (see :func:`label_pattern`)."""
    pattern = label_pattern(length)

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(NOT_A_STRING)
        if not pattern.match(value):
            raise ValueError(f"must be at most {length} printable characters")
        return value

    return parse


def one_of(choices: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A parser accepting the keys of ``choices`` and answering their values."""
    refusal = f"Must be one of: {', '.join(choices)}."

    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(NOT_A_STRING)
        if value not in choices:
            raise ValueError(refusal)
        return choices[value]

    return parse


def amount(minimum: int, maximum: int) -> Callable[[Any], int]:
    """A parser of whole numbers within ``minimum..maximum``."""
    return lambda value: whole_number(value, minimum, maximum)


@lru_cache
def posting_rules(max_amount: int) -> Rules:
    """The fields of a wallet posting: eid, trade_no, amount (1..``max_amount`` fen)."""
    return (("eid", identifier), ("trade_no", trade_number), ("amount", amount(1, max_amount)))


def load(data: Mapping, rules: Rules) -> list:
    """The value of each required field of ``rules`` found in ``data``, parsed, in order.

    Raises :class:`BadRequest` naming every problem: ``invalid input: field: reason; ...``.
    """
    values, problems = [], []
    for name, parse in rules:
        value = data.get(name, _ABSENT)
        if value is _ABSENT:
            problems.append(f"{name}: {MISSING}")
        elif value is None:
            problems.append(f"{name}: {NULL}")
        else:
            try:
                values.append(parse(value))
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
    if problems:
        raise BadRequest("invalid input: " + "; ".join(problems))
    return values
