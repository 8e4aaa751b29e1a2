"""The agent as deployed: gunicorn app and relay worker, spoken to over HTTP as user-center and the bank do."""
import json

import pytest
import requests

from tests.depository_agent.conftest import RELAY, SERVICE, bank_result, drain, recharge_body, sign_bank_message
from tests.support.metrics import key, parse, value


@pytest.mark.e2e
def test_request_notification_and_relay_over_real_processes(procs, infra, agent_db, test_queue):
    channel, queue = test_queue
    env = infra.service_env(SERVICE, BANK_SANDBOX_URL="http://127.0.0.1:8005")
    web = procs.web("depository_agent", env)
    procs.worker(RELAY, env)
    assert requests.get(f"{web.url}/readyz", timeout=5).status_code == 200
    body = recharge_body()
    created = requests.post(f"{web.url}/l/recharges", json=body, timeout=5,
                            headers={"Authorization": f"Bearer {infra.internal_token}"})
    assert created.status_code == 200
    assert created.json()["result"]["depositoryUrl"] == "http://127.0.0.1:8005/gateway"
    refused = requests.post(f"{web.url}/l/recharges", json=body, timeout=5)
    assert refused.status_code == 401
    result = bank_result("RECHARGE", body["requestNo"])
    message = sign_bank_message(infra.keys_dir, "RECHARGE", result)
    for _ in range(3):  # the bank's way: POST with URL-encoded query parameters, retried
        answer = requests.post(f"{web.url}/gateway", params=message, timeout=5,
                               headers={"X-Request-Id": "bank-notify-7"})
        assert (answer.status_code, answer.text, answer.headers["Content-Type"].split(";")[0]) == (
            200, "OK", "text/plain")
    message_id = f"RECHARGE:{body['requestNo']}"
    copies = drain(channel, queue, {message_id})[message_id]
    assert len(copies) == 1
    assert json.loads(copies[0][2]) == {**result, "serviceName": "RECHARGE"}
    assert copies[0][1].headers["x-request-id"] == "bank-notify-7"
    record = requests.get(f"{web.url}/l/records/{body['requestNo']}", timeout=5,
                          headers={"Authorization": f"Bearer {infra.internal_token}"}).json()["result"]
    assert (record["requestStatus"], record["resultSource"]) == (1, "NOTIFICATION")
    # the counter of whichever worker answered, merged into one /metrics
    metrics = parse(requests.get(f"{web.url}/metrics", timeout=5).text)
    assert value(metrics, "depository_agent_notifications_total", outcome="accepted") == 1
    assert value(metrics, "depository_agent_notifications_total", outcome="duplicate") == 2
    assert key("depository_agent_outbox_lag_seconds") in metrics
