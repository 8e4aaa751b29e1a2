"""POST /callbacks: verified, kept once per eventId, answered {"code": 0}; fault knobs fail the first N
deliveries of each callback or answer slowly."""
import json
import time
import uuid

import pytest

from shared.partner_envelope import seal


def callback(secret: str, **changes) -> dict:
    event_id = f"loan.succeeded:{uuid.uuid4().hex}"
    biz = {"eventId": event_id, "event": "loan.succeeded", "orderNo": "RS-" + event_id[-8:], "status": 7001, **changes}
    return seal(biz, "rongshu", secret, int(time.time() * 1000))


def kept(sandbox_db, envelope: dict) -> list[dict]:
    event_id = json.loads(envelope["bizData"])["eventId"]
    return sandbox_db.execute("select * from received_callbacks where event_id = %s", (event_id,)).fetchall()


def test_a_genuine_callback_is_kept_once_and_repeats_only_count(client, secret, sandbox_db):
    envelope = callback(secret)
    assert client.post("/callbacks", json=envelope).get_json() == {"code": 0, "msg": "success"}
    assert client.post("/callbacks", json=envelope).get_json()["code"] == 0
    [row] = kept(sandbox_db, envelope)
    assert row["repeats"] == 1 and row["biz"]["status"] == 7001


@pytest.mark.parametrize("spoil, reason", [("sign", "sign does not match"), ("stale", "timestamp"),
                                           ("app", "unknown appId"), ("no-event", "eventId"),
                                           ("not-json", "must be JSON")])
def test_a_callback_that_is_not_lendings_is_refused_and_not_kept(client, secret, sandbox_db, spoil, reason):
    envelope = callback(secret)
    if spoil == "sign":
        envelope = callback("another secret")
    elif spoil == "stale":
        envelope = seal({"eventId": "e", "event": "loan.rejected", "orderNo": "o"}, "rongshu", secret,
                        int(time.time() * 1000) - 400_000)
    elif spoil == "app":
        envelope["appId"] = "other"
    elif spoil == "no-event":
        envelope = seal({"event": "x", "orderNo": "o"}, "rongshu", secret, int(time.time() * 1000))
    if spoil == "not-json":
        response = client.post("/callbacks", data=b"\xff", content_type="application/json")
    else:
        response = client.post("/callbacks", json=envelope)
    assert response.status_code == 400 and response.get_json()["code"] == 1001
    assert reason in response.get_json()["msg"]
    if spoil in ("sign", "app"):
        assert kept(sandbox_db, envelope) == []


def test_the_fault_knobs_fail_the_first_deliveries_and_slow_the_answer(client, secret, sandbox_db, faults_reset):
    assert client.post("/sim/faults", json={"failFirst": 2, "delayMs": 0}).status_code == 401
    assert client.post("/sim/faults", json={"failFirst": 2, "delayMs": 200},
                       headers=faults_reset).get_json() == {"failFirst": 2, "delayMs": 200}
    assert client.get("/sim/faults").get_json() == {"failFirst": 2, "delayMs": 200}
    envelope = callback(secret)
    started = time.monotonic()
    answers = [client.post("/callbacks", json=envelope) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200] and answers[2].get_json()["code"] == 0
    assert time.monotonic() - started >= 0.6  # each answer waited the knob's delay
    assert len(kept(sandbox_db, envelope)) == 1
    assert client.post("/sim/faults", json={"failFirst": -1, "delayMs": 0}, headers=faults_reset).status_code == 400


def test_credit_data_is_made_up_the_same_for_any_order(client):
    for kind in ("operator", "creditcard", "device"):
        first = client.get(f"/data/ANY-ORDER/{kind}").get_json()
        assert first == client.get(f"/data/ANY-ORDER/{kind}").get_json() and first["orderNo"] == "ANY-ORDER"
    assert client.get("/data/ANY-ORDER/salary").status_code == 404
