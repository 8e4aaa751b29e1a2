"""How every service decodes what enters it: query strings, form bodies, JSON bodies, a request id.

One decoder per format, used by the Flask shell (shared/web.py) and by the ledger's posting fast path
alike, so a request means the same thing whichever code reads it. Text must be UTF-8 without lone
surrogates or NUL characters (PostgreSQL can store neither, and a replacement character would make two
different inputs one); anything else is refused with :class:`BadRequest` naming the reason, before any
handler sees it. A name given twice where one value is expected is refused too: no reader has to guess
whether the first or the last counts.
"""
import json
import math
import re
from typing import Iterable, Mapping
from urllib.parse import unquote_to_bytes

from shared.errors import BadRequest

# Deeper JSON is refused: no request of the platform nests beyond 3 levels, and deep nesting would let a
# caller exhaust the recursion limit of whatever code walks the value later.
MAX_JSON_DEPTH = 32
# Longest JSON number literal accepted (digits, sign, point, exponent): amounts have at most 19 digits.
MAX_NUMBER_LENGTH = 100
# A request id is echoed back and passed on to other services: visible ASCII only, at most 64 characters.
REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}")

INVALID_JSON = "invalid input: Invalid JSON body."
NOT_UTF8_BODY = "invalid input: the body is not valid UTF-8"
TOO_DEEP = f"invalid input: JSON nested deeper than {MAX_JSON_DEPTH} levels"
NUMBER_TOO_LONG = f"invalid input: a JSON number longer than {MAX_NUMBER_LENGTH} characters"
NOT_FINITE = "invalid input: a JSON number out of range"
LONE_SURROGATE = "invalid input: a lone surrogate (\\ud800-\\udfff) is not text"
NUL = "invalid input: text may not contain NUL (\\u0000)"
MULTIPART = "invalid input: multipart bodies are not accepted; send JSON or application/x-www-form-urlencoded"

# In decoded JSON text, a surrogate or NUL can only come from a \u escape (UTF-8 itself cannot carry
# either decoded), so the parsed value is searched only when the text holds such an escape.
_UNSAFE_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _name(name: str) -> str:
    """A parameter name as an error message quotes it (bounded)."""
    return name if len(name) <= 64 else name[:64] + "..."


def repeated(name: str) -> str:
    """The refusal of a single-valued parameter given more than once."""
    return f"invalid input: {_name(name)}: given more than once"


def check_text(text: str) -> str:
    """``text`` itself when it holds neither a lone surrogate nor NUL; :class:`BadRequest` otherwise."""
    if "\x00" in text:
        raise BadRequest(NUL)
    if _SURROGATE.search(text):
        raise BadRequest(LONE_SURROGATE)
    return text


def _form_text(part: bytes, name: str | None) -> str:
    raw = unquote_to_bytes(part.replace(b"+", b" ")) if b"%" in part or b"+" in part else part
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        subject = "a parameter name" if name is None else _name(name)
        raise BadRequest(f"invalid input: {subject}: not valid UTF-8 (percent-escapes must encode UTF-8)") from None
    if "\x00" in text:
        raise BadRequest(f"invalid input: {'a parameter name' if name is None else _name(name)}: "
                         f"may not contain NUL")
    return text


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a query string or an ``application/x-www-form-urlencoded`` body, in
    order: ``&``-separated, ``+`` a space, percent-escapes decoded to bytes and the bytes as strict UTF-8.

    ``raw`` is the undecoded bytes (a WSGI ``QUERY_STRING`` encoded back to Latin-1).
    """
    pairs = []
    for field in raw.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        text_name = _form_text(name, None)
        pairs.append((text_name, _form_text(value, text_name)))
    return pairs


def single_values(pairs: Iterable[tuple[str, str]], names: Iterable[str] | None = None) -> dict[str, str]:
    """``pairs`` as a dict; :class:`BadRequest` when one of ``names`` (default: any name) is given twice.

    Other repeated names keep their first value (they are ignored by the reader).
    """
    values: dict[str, str] = {}
    repeats = []
    for name, value in pairs:
        if name in values:
            repeats.append(name)
        else:
            values[name] = value
    for name in repeats if names is None else (name for name in names if name in repeats):
        raise BadRequest(repeated(name))
    return values


def _json_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise BadRequest(NUMBER_TOO_LONG)
    return int(literal)


def _json_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise BadRequest(NUMBER_TOO_LONG)
    value = float(literal)
    if not math.isfinite(value):
        raise BadRequest(NOT_FINITE)
    return value


def _json_constant(literal: str):
    raise BadRequest(f"invalid input: {literal} is not a JSON number")


def _json_object(pairs: list) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        for name, _ in pairs:
            if name in seen:
                raise BadRequest(repeated(name))
            seen.add(name)
    return value


_DECODER = json.JSONDecoder(object_pairs_hook=_json_object, parse_int=_json_int, parse_float=_json_float,
                            parse_constant=_json_constant)


def loads_json(data: bytes | str):
    """The value of a JSON document: strict UTF-8, no duplicate names, no NaN or Infinity, numbers of at
    most :data:`MAX_NUMBER_LENGTH` characters and finite, nesting of at most :data:`MAX_JSON_DEPTH`
    levels, strings without lone surrogates or NUL. :class:`BadRequest` says which rule failed."""
    if isinstance(data, str):
        check_text(data)
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{NOT_UTF8_BODY} (byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise BadRequest(TOO_DEEP) from None
    except ValueError:  # JSONDecodeError among them
        raise BadRequest(INVALID_JSON) from None
    strings = _UNSAFE_ESCAPE.search(text) is not None
    if strings or text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # the count bounds the depth
        _check_value(value, strings)
    return value


def _check_value(value, strings: bool) -> None:
    """Refuse nesting beyond :data:`MAX_JSON_DEPTH` and, when ``strings``, names and strings with a lone
    surrogate or NUL; iteratively (checking never recurses), visiting strings only when asked."""
    if strings and type(value) is str:
        check_text(value)
    stack = [(value, 1)] if type(value) is dict or type(value) is list else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(TOO_DEEP)
        if type(node) is dict:
            if strings:
                for name in node:
                    check_text(name)
            node = node.values()
        for item in node:
            if type(item) is dict or type(item) is list:
                stack.append((item, depth + 1))
            elif strings and type(item) is str:
                check_text(item)


def charset_refusal(params: Mapping[str, str]) -> str | None:
    """The refusal of a Content-Type whose ``charset`` parameter names anything but UTF-8, else None."""
    charset = params.get("charset")
    if charset is None or charset.strip().strip('"').lower() in ("utf-8", "utf8"):
        return None
    return f"invalid input: charset {charset[:32]!r} is not accepted; send UTF-8"


def request_id(header: str | None) -> str | None:
    """The caller's ``X-Request-Id`` when it is 1-64 visible ASCII characters, else None (a fresh one is
    made): the id is echoed back, logged and passed on, so control characters, spaces and non-ASCII bytes
    never travel with it."""
    if header is None:
        return None
    header = header.strip()
    return header if REQUEST_ID.fullmatch(header) else None
