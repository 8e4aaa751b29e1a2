"""What the consumer accepts as the agent's result message, and what it refuses (parked in the DLQ at once)."""
import json

import pytest

from user_center.result_message import MalformedMessage, read

REQUEST_NO = "REQ_" + "A" * 32


def body(**fields) -> bytes:
    return json.dumps({"serviceName": "RECHARGE", "requestNo": REQUEST_NO, "status": 1, "respCode": "00000",
                       **fields}).encode()


def test_a_result_is_read_with_an_integer_status():
    assert read(body())["status"] == 1
    assert read(body(status="2", respCode="EXPIRED"))["status"] == 2


def test_the_routing_key_names_the_service_when_the_body_does_not():
    raw = json.dumps({"requestNo": REQUEST_NO, "status": 2}).encode()
    assert read(raw, "WITHDRAW")["serviceName"] == "WITHDRAW"


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (body(serviceName="CONFIRM_LOAN"), "unknown serviceName"),
    (body(requestNo=""), "requestNo is missing"),
    (body(requestNo=7), "requestNo is missing"),
    (body(status=0), "status must be 1"),
    (body(status=None), "status must be 1"),
    (body(status="1.0"), "status must be 1"),
    (body(respCode="30042"), "respCode"),
])
def test_a_message_that_can_never_apply_is_refused_with_its_reason(raw, reason):
    with pytest.raises(MalformedMessage, match=reason):
        read(raw)
