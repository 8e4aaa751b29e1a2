"""Variants of a genuine signed wanxin message (a gateway request or a notification), for property
tests of the real endpoints that read them.

Two kinds. Respellings keep the genuine signed bytes and their genuine signature and only write them
otherwise on the wire: Base64 variants (URL-safe alphabet, missing or extra padding, whitespace or
line breaks inside, other spare bits, percent-encoding, ``+`` as a space). Rewritings are other JSON
texts for the message (duplicate names, data after the JSON, an amount or a number in another
format, a field of another service, names reordered or escaped): a signer would have had to sign
them, so they are signed again with the genuine key, and only the endpoint's reading can refuse them.

Each variant says whether it must be refused: those that are not the one genuine reading. The others
(``+`` sent as a space, names reordered, whitespace between JSON tokens, ``\\u`` escapes) mean exactly
the genuine message, and an endpoint may accept them; the tests check that whatever is accepted has
exactly the genuine effect.
"""
import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from hypothesis import strategies as st

from shared.signing import sign

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True)
class Variant:
    """``reqData`` and ``signature`` as sent, and how they were made."""

    name: str
    req_data: str
    signature: str
    must_refuse: bool
    raw_query: bool = False  # send them unencoded in the query string (a '+' arrives as a space)


def genuine_bytes(payload: dict) -> bytes:
    """The JSON bytes a genuine signer makes (the platform's and the sandbox's canonical form)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def genuine(payload: dict, key) -> Variant:
    """The genuine message itself: canonical JSON, standard Base64, signed with ``key``."""
    body = genuine_bytes(payload)
    return Variant("genuine", _b64(body), _b64(sign(key, body)), False)


def _spare_bits(text: str) -> str:
    """The same bytes with other (non-zero) unused bits in the last character before the padding."""
    padding = len(text) - len(text.rstrip("="))
    if not padding:
        return text
    index = len(text) - padding - 1
    return text[:index] + _ALPHABET[_ALPHABET.index(text[index]) ^ 1] + text[index + 1:]


def _respellings(position: int, blank: str):
    """``(name, change, refuse_when_changed)``: ways of writing the same Base64 otherwise."""
    def insert(text: str) -> str:
        at = position % (len(text) + 1)
        return text[:at] + blank + text[at:]

    return [
        ("URL-safe alphabet", lambda t: t.replace("+", "-").replace("/", "_"), True),
        ("padding dropped", lambda t: t.rstrip("="), True),
        ("padding added", lambda t: t + "=", True),
        ("padding doubled", lambda t: t + "==", True),
        (f"{blank!r} inside", insert, True),
        ("MIME lines of 76", lambda t: "\r\n".join(t[i:i + 76] for i in range(0, len(t), 76)), True),
        ("leading blank", lambda t: blank + t, True),
        ("trailing blank", lambda t: t + blank, True),
        ("other spare bits", _spare_bits, True),
        ("percent-encoded inside the value", lambda t: quote(t, safe=""), True),
        ("+ written as a space", lambda t: t.replace("+", " "), False),
    ]


@st.composite
def respelled(draw, payload: dict, key) -> Variant:
    """The genuine bytes and signature, one or both written otherwise."""
    original = genuine(payload, key)
    req_data, signature = original.req_data, original.signature
    if draw(st.integers(0, 9)) == 0:
        return Variant("+ left unencoded in the query", req_data, signature, False, raw_query=True)
    name, change, refuse = draw(st.sampled_from(_respellings(draw(st.integers(0, 400)),
                                                             draw(st.sampled_from([" ", "\n", "\r\n", "\t"])))))
    which = draw(st.sampled_from(["reqData", "signature", "both"]))
    new_data = change(req_data) if which in ("reqData", "both") else req_data
    new_signature = change(signature) if which in ("signature", "both") else signature
    changed = (new_data, new_signature) != (req_data, signature)
    return Variant(f"{name} ({which})", new_data, new_signature, refuse and changed)


def _amount_spellings(amount: str) -> list:
    value = Decimal(amount)
    spellings = [f"{value:.1f}", f"0{amount}", f" {amount}", f"{amount} ", f"+{amount}", f"{amount}0",
                 f"{value.normalize():E}", float(value), str(int(value * 100)), int(value * 100)]
    if value == value.to_integral_value():
        spellings += [str(int(value)), int(value)]
    return [spelling for spelling in spellings if spelling != amount]


def _rewritings(payload: dict, other_fields: dict, position: int, pick: int) -> list:
    """``(name, JSON text, must_refuse)`` for other JSON texts of ``payload``."""
    names = list(payload)
    name = names[pick % len(names)]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    inner = text[1:-1]
    ways = [
        ("names reordered", json.dumps(dict(reversed(list(payload.items()))), ensure_ascii=False), False),
        ("blanks between tokens", json.dumps(payload, ensure_ascii=False, indent=2), False),
        ("\\u escapes", json.dumps(payload, ensure_ascii=True), False),
        ("trailing newline", text + "\n", False),
        (f"{name} twice, same value", "{" + inner + "," + json.dumps(name) + ":" + json.dumps(payload[name]) + "}",
         True),
        (f"{name} twice, other value first", "{" + json.dumps(name) + ':"0",' + inner + "}", True),
        (f"{name} twice, other value last", "{" + inner + "," + json.dumps(name) + ':"0"}', True),
        ("data after the JSON", text + ["x", "{}", "[]", "1", "null", '"a"', "\u0000", ",", "}"][position % 9], True),
        ("byte order mark first", "\ufeff" + text, True),
        (f"{name} renamed {name.upper()}", text.replace(json.dumps(name) + ":", json.dumps(name.upper()) + ":", 1),
         True),
        (f"{name} left out", json.dumps({k: v for k, v in payload.items() if k != name}, ensure_ascii=False), True),
    ]
    for field, value in other_fields.items():
        ways.append((f"{field} of another service", json.dumps({**payload, field: value}, ensure_ascii=False), True))
    for field in ("amount", "commission"):
        if isinstance(payload.get(field), str):
            ways += [(f"{field} as {spelling!r}", json.dumps({**payload, field: spelling}, ensure_ascii=False), True)
                     for spelling in _amount_spellings(payload[field])]
    for field, value in payload.items():
        if isinstance(value, str) and value.isdigit():
            ways.append((f"{field} as a number", json.dumps({**payload, field: int(value)}, ensure_ascii=False), True))
        elif isinstance(value, int) and not isinstance(value, bool):
            ways.append((f"{field} as a string", json.dumps({**payload, field: str(value)}, ensure_ascii=False), True))
    return ways


@st.composite
def rewritten(draw, payload: dict, key, other_fields: dict) -> Variant:
    """Another JSON text of ``payload``, signed with ``key`` as a signer would have to.

    ``other_fields``: fields (with plausible values) of the other services, never of this one's.
    """
    ways = _rewritings(payload, other_fields, draw(st.integers(0, 100)), draw(st.integers(0, 100)))
    name, text, refuse = draw(st.sampled_from(ways))
    body = text.encode("utf-8")
    return Variant(name, _b64(body), _b64(sign(key, body)), refuse)


def variants(payload: dict, key, other_fields: dict):
    """Any variant of the genuine message ``payload`` signed with ``key``."""
    return st.one_of(respelled(payload, key), rewritten(payload, key, other_fields))
