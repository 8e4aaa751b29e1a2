"""depository-agent's OpenAPI document, fuzzed with the service token and bank-signed notifications."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

import uuid

import requests

from tests.api_fuzz.harness import fuzz, load_schema, mix_in, seed_fields
from tests.api_fuzz.seeds import bearer
from tests.api_fuzz.signed import bank_notifications


SERVICE_NAMES = {"/l/consumers": "PERSONAL_REGISTER", "/l/recharges": "RECHARGE", "/l/withdraws": "WITHDRAW"}


def seed_records(url: str, token: str) -> list[dict]:
    """One pending depository record of each kind: ``{serviceName, requestNo, amount?}``."""
    user_no = "USR_" + uuid.uuid4().hex.upper()
    card = {"cardNumber": "6222020200112233445", "mobile": "13800138000"}
    bodies = {
        "/l/consumers": {"fullname": "张三", "idNumber": "110101199003071234", "bankCode": "ICBC", "role": "I", **card},
        "/l/recharges": {"amount": "100.00"},
        "/l/withdraws": {"amount": "100.00", "commission": "1.00", **card},
    }
    records = []
    for path, body in bodies.items():
        request_no = "REQ_" + uuid.uuid4().hex.upper()
        response = requests.post(url + path, headers=bearer(token), timeout=10, json={
            "requestNo": request_no, "userNo": user_no, "callbackUrl": "http://127.0.0.1:8001/#/callback", **body})
        assert response.status_code == 200, (path, response.text)
        records.append({"serviceName": SERVICE_NAMES[path], "requestNo": request_no, "amount": body.get("amount")})
    return records


def test_depository_agent_api(fuzz_stack, fuzz_infra, opened_user):
    """No 5xx, every answer documented and matching its schema.

    Half of the /gateway cases carry a notification correctly signed with the bank's key, about
    pending records of each kind or the opened user's settled register request.
    """
    url = fuzz_stack.url("depository_agent")
    records = [*seed_records(url, fuzz_infra.internal_token),
               {"serviceName": "PERSONAL_REGISTER", "requestNo": opened_user.register_request_no}]
    schema = load_schema(url)
    seed_fields(schema, lambda operation: {"request_no": [record["requestNo"] for record in records]})
    notifications = bank_notifications(fuzz_infra.keys_dir, records)
    for container in ("query", "body"):
        mix_in(schema, container, lambda operation: notifications if operation.path == "/gateway" else None)

    run = fuzz(schema, lambda case: bearer(fuzz_infra.internal_token))
    run.assert_clean()
