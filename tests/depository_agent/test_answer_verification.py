"""The bank's direct answer ``{respData, signature}`` is believed only as the bank signed it: a property test
that no re-cut, re-encoded, re-signed or swapped answer is opened, and that the genuine one always is; and
that the agent, given a forged answer by something posing as the bank, keeps the request pending."""
import base64
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from shared.db import create_pool
from shared.errors import BadRequest
from shared.signing import encode_wanxin, load_key

from depository_agent import transactions
from depository_agent.bank_client import BankService
from depository_agent.config import load
from depository_agent.group_settle import GroupSettler
from depository_agent.wanxin import WanxinCodec

from tests.depository_agent.conftest import SERVICE, new_request_no, new_user_no, outbox_of, record_of
from tests.support.json_server import JsonServer

RESULTS = st.fixed_dictionaries({
    "requestNo": st.just("REQ_" + "0123456789ABCDEF" * 2),
    "respCode": st.sampled_from(["00000", "30042", "30050", "20007"]),
    "respMsg": st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
    "status": st.sampled_from([1, 2]),
})


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _recut(result: dict, how: str) -> bytes:
    """The same result's meaning in other bytes."""
    if how == "spaced":
        return json.dumps(result, ensure_ascii=False).encode()
    if how == "reordered":
        return json.dumps(dict(reversed(list(result.items()))), separators=(",", ":"), ensure_ascii=False).encode()
    if how == "escaped":
        return json.dumps(result, separators=(",", ":"), ensure_ascii=True).encode() + b" "
    return json.dumps({**result, "status": 3 - result["status"]}, separators=(",", ":")).encode()  # flipped


MUTATIONS = ["recut-spaced", "recut-reordered", "recut-escaped", "recut-flipped", "urlsafe", "unpadded", "newline",
             "signature-bit", "signature-truncated", "swapped", "platform-key", "other-answer-signature",
             "respData-missing", "signature-not-text"]


@pytest.fixture(scope="module")
def keys(infra):
    codec = WanxinCodec(load(infra.config(SERVICE)))
    return codec, load_key(os.path.join(infra.keys_dir, "bank_private.pem")), load_key(
        os.path.join(infra.keys_dir, "platform_private.pem"))


def _mutate(answer: dict, result: dict, how: str, bank_key, platform_key) -> dict:
    resp_data, signature = answer["respData"], answer["signature"]
    if how.startswith("recut-"):
        return {"respData": _b64(_recut(result, how[6:])), "signature": signature}
    if how == "urlsafe":  # the other Base64 alphabet, and padding that differs where it can
        raw = base64.b64decode(resp_data)
        return {"respData": base64.urlsafe_b64encode(raw + b"\xfb\xff").decode(), "signature": signature}
    if how == "unpadded":
        return {"respData": _b64(base64.b64decode(resp_data) + b"  ").rstrip("="), "signature": signature}
    if how == "newline":
        return {"respData": resp_data[:8] + "\n" + resp_data[8:], "signature": signature}
    if how == "signature-bit":
        raw = bytearray(base64.b64decode(signature))
        raw[len(raw) // 2] ^= 1
        return {"respData": resp_data, "signature": _b64(bytes(raw))}
    if how == "signature-truncated":
        return {"respData": resp_data, "signature": _b64(base64.b64decode(signature)[:-1])}
    if how == "swapped":
        return {"respData": signature, "signature": resp_data}
    if how == "platform-key":
        return dict(zip(("respData", "signature"), encode_wanxin(result, platform_key)))
    if how == "other-answer-signature":
        other = {**result, "respMsg": result["respMsg"] + "x"}
        return {"respData": resp_data, "signature": encode_wanxin(other, bank_key)[1]}
    if how == "respData-missing":
        return {"signature": signature}
    return {"respData": resp_data, "signature": 12345}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(result=RESULTS, how=st.sampled_from(MUTATIONS))
def test_only_the_answer_the_bank_signed_is_opened(keys, result, how):
    codec, bank_key, platform_key = keys
    resp_data, signature = encode_wanxin(result, bank_key)
    genuine = {"respData": resp_data, "signature": signature}
    assert codec.open_answer(genuine) == result
    with pytest.raises(BadRequest):
        codec.open_answer(_mutate(genuine, result, how, bank_key, platform_key))


@pytest.fixture(scope="module")
def forging_bank():
    """Something at the bank's address answering ``POST /service`` with ``forging_bank.body``."""
    server = JsonServer(lambda method, path, body: (200, server.body))
    server.body = {}
    yield server
    server.stop()


@pytest.mark.parametrize("case", ["platform-signed", "about another request", "not an answer", "result unknown"])
def test_an_answer_not_believed_leaves_the_request_pending(infra, agent_db, forging_bank, keys, db, case):
    codec, bank_key, platform_key = keys
    config = load(infra.config(SERVICE, BANK_SANDBOX_URL=forging_bank.url))
    body = {"requestNo": new_request_no(), "userNo": new_user_no(), "amount": "10.00", "bizType": "TENDER",
            "projectNo": "PRJ_1"}
    success = {"requestNo": body["requestNo"], "respCode": "00000", "respMsg": "success", "status": 1}
    answers = {
        "platform-signed": encode_wanxin(success, platform_key),
        "about another request": encode_wanxin({**success, "requestNo": new_request_no()}, bank_key),
        "not an answer": None,
        "result unknown": encode_wanxin({**success, "status": 0, "respCode": "40004"}, bank_key),
    }
    pair = answers[case]
    forging_bank.body = {"code": 0} if pair is None else dict(zip(("respData", "signature"), pair))
    pool = create_pool(config, "test-forged-answer", autocommit=True)  # as the agent's (group_settle.py)
    try:
        status, result = transactions.call(pool, codec, BankService(config), GroupSettler(pool, 8),
                                           "USER_AUTO_PRE_TRANSACTION", body, 10**8, 1800)
    finally:
        pool.close()
    assert (status, result["status"]) == (202, 0)
    assert record_of(db, body["requestNo"])["request_status"] == 0
    assert outbox_of(db, body["requestNo"]) == []
