"""Signing helpers of both bank protocols (OpenSSL through `cryptography`), checked against pycryptodome,
an independent implementation of RSASSA-PKCS1-v1_5."""
import base64
import json
import os
import re

import pytest
from hypothesis import given, strategies as st
from Crypto.Hash import MD5, SHA1, SHA256
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15

from shared.errors import BadRequest
from shared.signing import (BASE64_PATTERN, _standard_base64, WeakKeyError, decode_wanxin, encode_wanxin, huifu_chk_value, load_key,
                            verify_huifu)


@pytest.fixture(scope="module")
def keys(infra):
    folder = infra.keys_dir
    return {name: load_key(os.path.join(folder, f"{name}.pem")) for name in
            ("platform_private", "platform_public", "bank_private", "bank_public")}


def _independent_key(infra, name):
    with open(os.path.join(infra.keys_dir, f"{name}.pem"), "rb") as handle:
        return RSA.import_key(handle.read())


@pytest.mark.parametrize("hash_name,algorithm", [("SHA256", SHA256), ("SHA1", SHA1)])
def test_wanxin_signature_verifies_independently(infra, keys, hash_name, algorithm):
    payload = {"requestNo": "REQ_" + "A" * 32, "amount": "100.00", "fullname": "张三"}
    req_data, signature = encode_wanxin(payload, keys["platform_private"], hash_name)
    body = base64.b64decode(req_data)
    assert json.loads(body) == payload
    pkcs1_15.new(_independent_key(infra, "platform_public")).verify(algorithm.new(body), base64.b64decode(signature))
    assert decode_wanxin(req_data, signature, keys["platform_public"], hash_name) == payload


def test_wanxin_refuses_tampering_and_wrong_key(keys):
    req_data, signature = encode_wanxin({"requestNo": "X", "amount": "1.00"}, keys["platform_private"])
    tampered = base64.b64encode(base64.b64decode(req_data).replace(b"1.00", b"9.00")).decode()
    with pytest.raises(BadRequest, match="does not verify"):
        decode_wanxin(tampered, signature, keys["platform_public"])
    with pytest.raises(BadRequest, match="does not verify"):
        decode_wanxin(req_data, signature, keys["bank_public"])
    with pytest.raises(BadRequest, match="does not verify"):
        decode_wanxin(req_data, signature, keys["platform_public"], "SHA1")
    with pytest.raises(BadRequest, match="not valid Base64"):
        decode_wanxin("%%%", signature, keys["platform_public"])
    with pytest.raises(BadRequest, match="required"):
        decode_wanxin("", signature, keys["platform_public"])


def test_signed_non_json_is_refused(keys):
    from shared.signing import sign

    body = b"not json"
    signature = base64.b64encode(sign(keys["platform_private"], body)).decode()
    with pytest.raises(BadRequest, match="JSON"):
        decode_wanxin(base64.b64encode(body).decode(), signature, keys["platform_public"])


def test_short_keys_are_refused(tmp_path):
    weak = RSA.generate(1024)
    (tmp_path / "weak.pem").write_bytes(weak.export_key(pkcs=8))
    (tmp_path / "weak_public.pem").write_bytes(weak.publickey().export_key())
    with pytest.raises(WeakKeyError):
        load_key(str(tmp_path / "weak.pem"))
    private = load_key(str(tmp_path / "weak.pem"), min_bits=1024)
    public = load_key(str(tmp_path / "weak_public.pem"), min_bits=1024)
    assert private.key_size == public.key_size == 1024
    # A signature by a 1024-bit key does not verify where 2048 bits are required.
    values = ["UserRegister", "000"]
    chk = huifu_chk_value(private, values)
    assert verify_huifu(public, values, chk, min_bits=1024)
    assert not verify_huifu(public, values, chk)


def test_what_is_not_an_rsa_key_is_refused(tmp_path):
    (tmp_path / "junk.pem").write_bytes(b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ValueError, match="not a PEM RSA key"):
        load_key(str(tmp_path / "junk.pem"))


@pytest.mark.parametrize("hash_name,algorithm", [("SHA256", SHA256), ("MD5", MD5)])
def test_huifu_chk_value(infra, keys, hash_name, algorithm):
    values = ["NetSave", "000", "6000060000000001", "6000060000000002", "ORD1", "20261121", "100.00", "123"]
    chk = huifu_chk_value(keys["bank_private"], values, hash_name)
    assert chk == chk.upper()
    pkcs1_15.new(_independent_key(infra, "bank_public")).verify(algorithm.new("".join(values).encode()),
                                                                bytes.fromhex(chk))
    assert verify_huifu(keys["bank_public"], values, chk, hash_name)
    assert not verify_huifu(keys["bank_public"], values[::-1], chk, hash_name)
    assert not verify_huifu(keys["bank_public"], values, "ZZ" + chk[2:], hash_name)
    assert not verify_huifu(keys["platform_public"], values, chk, hash_name)


def _accepts_base64(text: str) -> bool:
    try:
        _standard_base64(text, "reqData")
        return True
    except BadRequest:
        return False


@given(st.one_of(st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode()),
                 st.text(alphabet="ABCQgwEIMcko048+/ =-_\n", max_size=12),
                 st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode().rstrip("=")),
                 st.binary(min_size=1, max_size=40).map(lambda raw: base64.b64encode(raw).decode().replace("+", " "))))
def test_base64_pattern_states_exactly_the_accepted_spelling(text):
    """The pattern documented for reqData and signature accepts what decoding accepts, and nothing else."""
    assert (re.fullmatch(BASE64_PATTERN, text) is not None) == _accepts_base64(text), text
