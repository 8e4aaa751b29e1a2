"""What the consumer accepts as the agent's result message, and what it refuses (parked in the DLQ at once):
exactly what the agent checks before it publishes (shared.contract.check_result)."""
import json

import pytest

from user_center.result_message import MalformedMessage, read

REQUEST_NO = "REQ_" + "A" * 32


def body(**fields) -> bytes:
    message = {"serviceName": "RECHARGE", "requestNo": REQUEST_NO, "status": 1, "respCode": "00000",
               "respMsg": "ok", "transactionStatus": "SUCCESS", "amount": "10.00", **fields}
    return json.dumps({name: value for name, value in message.items() if value is not ...}).encode()


def test_a_result_is_read_with_its_service_and_integer_status():
    assert read(body()) == json.loads(body())
    failed = read(body(status=2, respCode="30042", transactionStatus="FAIL"))
    assert failed["status"] == 2 and failed["serviceName"] == "RECHARGE"


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not one JSON reading"),
    (b"\xff\xfe", "not one JSON reading"),
    (b'{"a": 1, "a": 2}', "not one JSON reading"),
    (b"[1, 2]", "not a JSON object"),
    (body(serviceName=...), "serviceName"),
    (body(serviceName="CONFIRM_LOAN"), "a CONFIRM_LOAN result carries exactly its fields"),
    (json.dumps({"serviceName": "CONFIRM_LOAN", "requestNo": REQUEST_NO, "status": 1, "respCode": "00000",
                 "respMsg": "ok"}).encode(), "serviceName CONFIRM_LOAN is not one of"),  # well formed, lending's
    (body(requestNo=""), "requestNo"),
    (body(requestNo=7), "requestNo"),
    (body(status=0), "status"),
    (body(status="1"), "status"),
    (body(status=None), "status"),
    (body(respCode="30042"), "respCode"),
    (body(amount="10"), "amount"),
    (body(bankCode="ICBC"), "exactly its fields"),
])
def test_a_message_that_can_never_apply_is_refused_with_its_reason(raw, reason):
    with pytest.raises(MalformedMessage, match=reason):
        read(raw)
