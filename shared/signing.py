"""RSA signatures of both bank protocols (RSASSA-PKCS1-v1_5).

Wanxin depository protocol: ``reqData`` is standard Base64 of the UTF-8 JSON, and the signature
is over those same JSON bytes, standard Base64. Huifu protocol: ``ChkValue`` is upper-case hex of
the signature over the concatenated field values.

The RSA work is OpenSSL's, through the ``cryptography`` package: a 2048-bit signature takes about a
third of the time pycryptodome's takes (docs/performance.md), and a gateway request is signed on the
request path.
"""
import base64
import binascii
import json
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.errors import BadRequest
from shared.inputs import loads_json

MIN_KEY_BITS = 2048
_HASHES = {"SHA256": hashes.SHA256, "SHA1": hashes.SHA1, "MD5": hashes.MD5}
RsaKey = rsa.RSAPrivateKey | rsa.RSAPublicKey


class WeakKeyError(ValueError):
    """A key shorter than the minimum the configuration allows."""


def _hash(name: str) -> hashes.HashAlgorithm:
    try:
        return _HASHES[name.upper().replace("-", "").replace("WITHRSA", "")]()
    except KeyError:
        raise ValueError(f"unsupported signature hash {name!r}; use SHA256, SHA1 or MD5") from None


@lru_cache(maxsize=32)
def load_key(path: str, min_bits: int = MIN_KEY_BITS) -> RsaKey:
    """Load a PEM RSA key (private, PKCS#8 or PKCS#1, or public), refusing one shorter than ``min_bits``."""
    with open(path, "rb") as handle:
        pem = handle.read()
    try:
        key = (serialization.load_pem_private_key(pem, password=None) if b"PRIVATE KEY-----" in pem
               else serialization.load_pem_public_key(pem))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"{path}: not a PEM RSA key without a passphrase ({exc})") from None
    if not isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        raise ValueError(f"{path}: not an RSA key")
    if key.key_size < min_bits:
        raise WeakKeyError(f"{path}: RSA key of {key.key_size} bits, at least {min_bits} required")
    return key


def sign(private_key: rsa.RSAPrivateKey, data: bytes, hash_name: str = "SHA256") -> bytes:
    """The raw RSASSA-PKCS1-v1_5 signature of ``data``."""
    return private_key.sign(data, padding.PKCS1v15(), _hash(hash_name))


def verify(public_key: rsa.RSAPublicKey, data: bytes, signature: bytes, hash_name: str = "SHA256",
           min_bits: int = MIN_KEY_BITS) -> bool:
    """True when ``signature`` is a valid signature of ``data`` by a key of at least ``min_bits``."""
    if public_key.key_size < min_bits:
        return False
    try:
        public_key.verify(signature, data, padding.PKCS1v15(), _hash(hash_name))
        return True
    except InvalidSignature:
        return False


def canonical_json(payload: dict) -> bytes:
    """The UTF-8 JSON bytes that are both Base64-encoded and signed."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_wanxin(payload: dict, private_key: rsa.RSAPrivateKey, hash_name: str = "SHA256") -> tuple[str, str]:
    """``(reqData, signature)`` of a wanxin message: both standard Base64, not URL-encoded."""
    body = canonical_json(payload)
    return base64.b64encode(body).decode("ascii"), base64.b64encode(sign(private_key, body, hash_name)).decode("ascii")


# The texts _standard_base64 accepts, as a regular expression (for OpenAPI documents): standard alphabet,
# padded, spare bits zero, a space standing for a + (tests/shared/test_signing.py checks they agree).
BASE64_PATTERN = r"([A-Za-z0-9+/ ]{4})*([A-Za-z0-9+/ ][AQgw]==|[A-Za-z0-9+/ ]{2}[AEIMQUYcgkosw048]=)?"


def _standard_base64(text: str, name: str) -> bytes:
    """The bytes of ``text`` when it is exactly their standard, padded Base64 (no other encoding of
    them is accepted: URL-safe alphabet, missing or extra padding, whitespace, non-zero spare bits).

    A space is read as the ``+`` a form decoder turned into one (a ``+`` left unencoded in a query
    string): Base64 has no spaces, so this cannot change which bytes are meant.
    """
    text = text.replace(" ", "+")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or base64.b64encode(raw).decode("ascii") != text:
        raise BadRequest(f"{name} is not valid Base64 (standard alphabet, padded, nothing else)")
    return raw


def parse_json_object(body: bytes, name: str = "reqData") -> dict:
    """The JSON object of signed bytes, read one way only, by the one JSON reader of every input
    (:func:`shared.inputs.loads_json`: UTF-8, no duplicate names, no NaN or Infinity, bounded numbers and
    nesting, no NUL or lone surrogate), so that two parsers can never read different values."""
    try:
        payload = loads_json(body)
    except BadRequest as exc:
        raise BadRequest(f"{name} is not valid JSON: {exc.msg}") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"{name} must be a JSON object")
    return payload


def decode_wanxin(req_data: str, signature: str, public_key: rsa.RSAPublicKey, hash_name: str = "SHA256",
                  min_bits: int = MIN_KEY_BITS) -> dict:
    """Verify a wanxin message and return its JSON object; :class:`BadRequest` says what is wrong.

    Only the standard Base64 of the signed bytes is accepted, and the bytes are read as one JSON
    object in one way only (:func:`parse_json_object`), so a signature buys exactly one message.
    """
    if not req_data or not signature:
        raise BadRequest("reqData and signature are required")
    body = _standard_base64(req_data, "reqData")
    raw_signature = _standard_base64(signature, "signature")
    if not verify(public_key, body, raw_signature, hash_name, min_bits):
        raise BadRequest("signature does not verify", code=910)
    return parse_json_object(body)


# Wanxin times (a request's timestamp and expired): yyyyMMddHHmmss in China Standard Time.
WANXIN_ZONE = timezone(timedelta(hours=8), "CST")
_WANXIN_TIME = re.compile(r"[0-9]{14}")


def wanxin_time(moment: datetime) -> str:
    """``moment`` (timezone-aware) as ``yyyyMMddHHmmss`` in China Standard Time (UTC+8)."""
    return moment.astimezone(WANXIN_ZONE).strftime("%Y%m%d%H%M%S")


def parse_wanxin_time(value, name: str) -> datetime:
    """The aware instant a ``yyyyMMddHHmmss`` China Standard Time text names; :class:`BadRequest` otherwise."""
    if not isinstance(value, str) or not _WANXIN_TIME.fullmatch(value):
        raise BadRequest(f"{name} must be yyyyMMddHHmmss (China Standard Time)")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=WANXIN_ZONE)
    except ValueError:
        raise BadRequest(f"{name} {value} is not a real date and time") from None


def huifu_chk_value(private_key: rsa.RSAPrivateKey, values: list[str], hash_name: str = "SHA256") -> str:
    """Huifu ``ChkValue``: upper-case hex of the signature over the values joined with no separator."""
    return sign(private_key, "".join(values).encode("utf-8"), hash_name).hex().upper()


def verify_huifu(public_key: rsa.RSAPublicKey, values: list[str], chk_value: str, hash_name: str = "SHA256",
                 min_bits: int = MIN_KEY_BITS) -> bool:
    """True when ``chk_value`` signs the concatenation of ``values``."""
    try:
        raw = bytes.fromhex(chk_value or "")
    except ValueError:
        return False
    return bool(raw) and verify(public_key, "".join(values).encode("utf-8"), raw, hash_name, min_bits)
