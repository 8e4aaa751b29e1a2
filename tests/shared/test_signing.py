"""Signing helpers of both bank protocols, checked against the independent `cryptography` package."""
import base64
import json
import os

import pytest
from Crypto.PublicKey import RSA
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from shared.errors import BadRequest
from shared.signing import (WeakKeyError, decode_wanxin, encode_wanxin, huifu_chk_value, load_key,
                            verify_huifu)


@pytest.fixture(scope="module")
def keys(infra):
    folder = infra.keys_dir
    return {name: load_key(os.path.join(folder, f"{name}.pem")) for name in
            ("platform_private", "platform_public", "bank_private", "bank_public")}


def _independent_public(infra, name):
    with open(os.path.join(infra.keys_dir, f"{name}.pem"), "rb") as handle:
        return serialization.load_pem_public_key(handle.read())


@pytest.mark.parametrize("hash_name,algorithm", [("SHA256", hashes.SHA256()), ("SHA1", hashes.SHA1())])
def test_wanxin_signature_verifies_independently(infra, keys, hash_name, algorithm):
    payload = {"requestNo": "REQ_" + "A" * 32, "amount": "100.00", "fullname": "张三"}
    req_data, signature = encode_wanxin(payload, keys["platform_private"], hash_name)
    body = base64.b64decode(req_data)
    assert json.loads(body) == payload
    _independent_public(infra, "platform_public").verify(
        base64.b64decode(signature), body, padding.PKCS1v15(), algorithm)
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
    path = tmp_path / "weak.pem"
    path.write_bytes(weak.export_key())
    with pytest.raises(WeakKeyError):
        load_key(str(path))
    assert load_key(str(path), min_bits=1024).size_in_bits() == 1024
    # A signature by a 1024-bit key does not verify where 2048 bits are required.
    values = ["UserRegister", "000"]
    chk = huifu_chk_value(weak, values)
    assert verify_huifu(weak.publickey(), values, chk, min_bits=1024)
    assert not verify_huifu(weak.publickey(), values, chk)


@pytest.mark.parametrize("hash_name", ["SHA256", "MD5"])
def test_huifu_chk_value(infra, keys, hash_name):
    values = ["NetSave", "000", "6000060000000001", "6000060000000002", "ORD1", "20261121", "100.00", "123"]
    chk = huifu_chk_value(keys["bank_private"], values, hash_name)
    assert chk == chk.upper()
    assert verify_huifu(keys["bank_public"], values, chk, hash_name)
    assert not verify_huifu(keys["bank_public"], values[::-1], chk, hash_name)
    assert not verify_huifu(keys["bank_public"], values, "ZZ" + chk[2:], hash_name)
    assert not verify_huifu(keys["platform_public"], values, chk, hash_name)
