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
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.errors import BadRequest

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


def decode_wanxin(req_data: str, signature: str, public_key: rsa.RSAPublicKey, hash_name: str = "SHA256",
                  min_bits: int = MIN_KEY_BITS) -> dict:
    """Verify a wanxin message and return its JSON object; :class:`BadRequest` says what is wrong."""
    if not req_data or not signature:
        raise BadRequest("reqData and signature are required")
    try:
        body = base64.b64decode(req_data.replace(" ", "+"), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("reqData is not valid Base64") from None
    try:
        raw_signature = base64.b64decode(signature.replace(" ", "+"), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("signature is not valid Base64") from None
    if not verify(public_key, body, raw_signature, hash_name, min_bits):
        raise BadRequest("signature does not verify", code=910)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("reqData is not UTF-8 JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("reqData must be a JSON object")
    return payload


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
