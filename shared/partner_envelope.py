"""The lending partner's signed envelope (the Rongshu channel), used by both sides.

Every partner call and every callback is JSON ``{"appId", "timestamp", "bizData", "sign"}``:
``timestamp`` in milliseconds, ``bizData`` a JSON object serialized as a string, and ``sign`` the
lower-case hex MD5 of ``appId=<appId>&bizData=<bizData>&timestamp=<timestamp>&key=<secret>``.

The signed text joins the fields with separators that ``bizData`` may itself contain, so each
field has one exact form before the signature counts: ``appId`` is the configured id, and
``timestamp`` is digits without a sign or leading zero. With both ends fixed, only one ``bizData``
can produce a given signed text. ``bizData`` must then be strict JSON (one object, no duplicate
keys, no NaN, no lone surrogates, no absurd numbers), so the partner and the platform can never
read two different messages out of the same signed bytes.
"""
import hashlib
import hmac
import json
import re

from shared.contract import PARTNER_BAD_REQUEST

TIMESTAMP_WINDOW_MS = 300_000
FIELDS = frozenset({"appId", "timestamp", "bizData", "sign"})
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,15}")  # digits of a JSON integer or a string: one written form
_SIGN = re.compile(r"[0-9a-f]{32}")
_MAX_NUMBER_DIGITS = 30


class EnvelopeError(ValueError):
    """An envelope that is not the partner's genuine, fresh message; ``msg`` says why."""

    code = PARTNER_BAD_REQUEST

    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg


def signature(app_id: str, biz_data: str, timestamp: int, secret: str) -> str:
    """The lower-case hex MD5 ``sign`` of an envelope's fields."""
    text = f"appId={app_id}&bizData={biz_data}&timestamp={timestamp}&key={secret}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def seal(biz: dict, app_id: str, secret: str, now_ms: int) -> dict:
    """The envelope carrying ``biz`` (a JSON object), signed and stamped ``now_ms``."""
    biz_data = json.dumps(biz, ensure_ascii=False, separators=(",", ":"))
    return {"appId": app_id, "timestamp": now_ms, "bizData": biz_data,
            "sign": signature(app_id, biz_data, now_ms, secret)}


def open_envelope(envelope: object, app_id: str, secret: str, now_ms: int,
                  window_ms: int = TIMESTAMP_WINDOW_MS) -> dict:
    """The ``bizData`` object of a genuine envelope from ``app_id`` stamped within ``window_ms`` of ``now_ms``.

    Raises :class:`EnvelopeError` for anything else: other or missing fields, a field in another
    form, a wrong sign (compared in constant time), a stale or future timestamp, or a ``bizData``
    that is not one strict JSON object.
    """
    if not isinstance(envelope, dict) or set(envelope) != FIELDS:
        raise EnvelopeError("the body must be a JSON object with exactly appId, timestamp, bizData and sign")
    sent_app_id, biz_data, sign = envelope["appId"], envelope["bizData"], envelope["sign"]
    if not isinstance(sent_app_id, str) or not hmac.compare_digest(sent_app_id.encode("utf-8", "replace"),
                                                                   app_id.encode("utf-8")):
        raise EnvelopeError("unknown appId")
    timestamp = _timestamp(envelope["timestamp"])
    if not isinstance(biz_data, str):
        raise EnvelopeError("bizData must be a string holding a JSON object")
    if not isinstance(sign, str) or not _SIGN.fullmatch(sign):
        raise EnvelopeError("sign must be 32 lower-case hexadecimal characters")
    try:
        expected = signature(app_id, biz_data, timestamp, secret)
    except UnicodeEncodeError:
        raise EnvelopeError("bizData is not valid Unicode text") from None
    if not hmac.compare_digest(expected, sign):
        raise EnvelopeError("sign does not match")
    if abs(now_ms - timestamp) > window_ms:
        raise EnvelopeError(f"timestamp is more than {window_ms // 1000} s away from now")
    return parse_biz_data(biz_data)


def envelope_schema(app_id: str) -> dict:
    """The envelope as an OpenAPI (JSON Schema) object, for the documents of both sides (``app_id``: the
    configured appId); what a schema cannot say (the sign's value, the window) is in the descriptions."""
    return {
        "type": "object", "required": ["appId", "timestamp", "bizData", "sign"], "additionalProperties": False,
        "properties": {
            "appId": {"type": "string", "enum": [app_id]},
            "timestamp": {"description": f"milliseconds since the epoch, within {TIMESTAMP_WINDOW_MS // 1000} s of"
                                         " now: a JSON integer or its digits as a string (no sign, no leading zero)",
                          "oneOf": [{"type": "integer", "minimum": 1, "maximum": 10**16 - 1},
                                    {"type": "string", "pattern": f"^{_TIMESTAMP.pattern}$"}]},
            "bizData": {"type": "string", "minLength": 2,
                        "description": "a JSON object as strict JSON text (one object, no repeated key, no NaN, no "
                                       "float, no lone surrogate, no number of more than 30 digits): the call's "
                                       "bizData, whose schema is the operation's x-bizData"},
            "sign": {"type": "string", "pattern": f"^{_SIGN.pattern}$",
                     "description": "lower-case hex MD5 of the UTF-8 text "
                                    "appId=<appId>&bizData=<bizData>&timestamp=<timestamp>&key=<secret>"},
        },
    }


def parse_biz_data(biz_data: str) -> dict:
    """``bizData`` as a JSON object, refusing what two JSON parsers could read differently."""
    try:
        biz = json.loads(biz_data, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                         parse_int=_bounded_int, parse_float=_no_float)
    except EnvelopeError:
        raise
    except (ValueError, RecursionError):
        raise EnvelopeError("bizData is not valid JSON") from None
    if not isinstance(biz, dict):
        raise EnvelopeError("bizData must hold a JSON object")
    _refuse_surrogates(biz)
    return biz


def _timestamp(value: object) -> int:
    """The timestamp as an integer; a JSON integer or a string of digits, one written form only."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise EnvelopeError("timestamp must be milliseconds since the epoch, digits only")
    return int(text)


def _unique_keys(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise EnvelopeError("bizData repeats a key")
    return dict(pairs)


def _no_constant(name: str):
    raise EnvelopeError(f"bizData must not contain {name}")


def _no_float(text: str):
    raise EnvelopeError("bizData numbers must be integers (amounts are whole fen)")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_NUMBER_DIGITS:
        raise EnvelopeError("bizData holds an absurdly long number")
    return int(text)


def _refuse_surrogates(node) -> None:
    if isinstance(node, str):
        try:
            node.encode("utf-8")
        except UnicodeEncodeError:
            raise EnvelopeError("bizData holds a lone surrogate") from None
    elif isinstance(node, dict):
        for key, value in node.items():
            _refuse_surrogates(key)
            _refuse_surrogates(value)
    elif isinstance(node, list):
        for item in node:
            _refuse_surrogates(item)
