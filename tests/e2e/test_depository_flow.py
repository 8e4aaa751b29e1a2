"""The depository flow end to end: every service a real process on the real servers.

A user registers, opens an account, recharges and withdraws through signed gateway requests that
the bank sandbox confirms; signed notifications travel agent -> outbox -> RabbitMQ -> consumer ->
ledger. Afterwards user-center, the ledger and the bank agree, and every record is final.
"""
import base64
import json

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.e2e.conftest import FAST, PlatformUser, bank_balance, wait_for
from tests.support.infra import separate_infra
from tests.support.stack import start_stack

# Requests that live a few seconds, and the old compensation knob as short: a stale request's hold
# comes back only once the bank refuses it.
SHORT_LIVED = {**FAST, "GATEWAY_REQUEST_TTL_SECONDS": "6", "COMPENSATION_AGE_SECONDS": "1",
               "COMPENSATION_INTERVAL_SECONDS": "1", "COMPENSATION_EXPIRY_GRACE_SECONDS": "0",
               "COMPENSATION_EXPIRY_SECONDS": "1"}


@pytest.fixture
def short_lived_stack(infra, tmp_path):
    """The platform on databases of its own, signing requests that expire after six seconds."""
    with separate_infra(infra) as own:
        running = start_stack(own, tmp_path, settings=SHORT_LIVED, workers=1,
                              worker_names=("gateway_notify", "outbox_relay", "compensation", "notifier"))
        try:
            yield running
        finally:
            running.stop()


def test_a_withdraw_released_after_its_expiry_can_no_longer_be_paid_out_at_the_bank(short_lived_stack):
    stack = short_lived_stack
    user = PlatformUser(stack)
    user_no = user.open_account()
    callback = {"callbackUrl": f"{user.uc}/#/callback"}
    user.confirm(user.gateway_request("/my/recharge-records", {"amount": "100.00", **callback}))
    wait_for(lambda: user.balance() == "100.00", what="the recharge")

    saved = user.gateway_request("/my/withdraw-records", {"amount": "40.00", **callback})  # never confirmed in time
    assert user.balance() == "60.00"
    records = wait_for(lambda: all_final(user, "withdraw", 1), timeout=60, what="the withdraw to expire")
    assert records[0]["callbackStatus"] == 2
    wait_for(lambda: user.balance() == "100.00", what="the hold to come back")

    late = requests.post(f"{stack.url('bank_sandbox')}/sandbox/confirm", timeout=10, json={
        "platformNo": saved["platformNo"], "reqData": saved["reqData"], "signature": saved["signature"],
        "password": user.bank_password})
    assert late.status_code == 400 and late.json()["respCode"] == "20007", late.text
    page = requests.get(stack.url("bank_sandbox") + "/gateway", timeout=10, headers={"Accept": "text/html"},
                        params={key: saved[key] for key in ("serviceName", "platformNo", "reqData", "signature")})
    assert page.status_code == 400 and "20007" in page.text
    assert bank_balance(stack, user_no) == "100.00"
    assert user.balance() == "100.00"


def ledger_state(stack, infra, eid: str) -> tuple[int, list[dict]]:
    """The ledger's balance (fen) and records of ``eid``, asked with service credentials."""
    headers = {"Authorization": f"Bearer {infra.internal_token}"}
    ledger = stack.url("beanpay_ledger")
    balance = requests.get(f"{ledger}/account/balance/query", params={"eid": eid}, headers=headers).json()["balance"]
    records = requests.get(f"{ledger}/account/record/query", params={"eid": eid, "ps": 100}, headers=headers).json()
    return balance, records["data"]


def all_final(user: PlatformUser, kind: str, count: int):
    records = user.records(kind)
    return len(records) == count and all(r["callbackStatus"] in (1, 2) for r in records) and records


def test_register_open_recharge_withdraw_and_everyone_agrees(stack, infra):
    user = PlatformUser(stack)
    user_no = user.open_account()
    assert user.balance() == "0.00"

    callback = {"callbackUrl": f"{user.uc}/#/callback"}
    for amount in ("100.00", "50.50"):
        user.confirm(user.gateway_request("/my/recharge-records", {"amount": amount, **callback}))
    user.confirm(user.gateway_request("/my/recharge-records", {"amount": "20.00", **callback}), outcome="fail")
    # the bank notifies asynchronously: the withdraw is held against the credited balance only
    wait_for(lambda: user.balance() == "150.50", what="recharges credited")
    user.confirm(user.gateway_request("/my/withdraw-records", {"amount": "30.25", **callback}))
    wait_for(lambda: all_final(user, "withdraw", 1), what="first withdraw settled")
    user.confirm(user.gateway_request("/my/withdraw-records", {"amount": "10.00", **callback}), outcome="fail")

    recharges = wait_for(lambda: all_final(user, "recharge", 3), what="recharges final")
    withdraws = wait_for(lambda: all_final(user, "withdraw", 2), what="withdraws final")
    assert sorted((r["amount"], r["callbackStatus"]) for r in recharges) == [("100.00", 1), ("20.00", 2), ("50.50", 1)]
    assert sorted((r["amount"], r["callbackStatus"]) for r in withdraws) == [("10.00", 2), ("30.25", 1)]

    wait_for(lambda: user.balance() == "120.25", what="user-center balance")
    balance, records = ledger_state(stack, infra, user_no)
    assert balance == 12025
    assert balance == sum(r["amount"] for r in records)
    assert sorted((r["change_type"], r["amount"]) for r in records) == [(1, 5050), (1, 10000), (2, -3025), (2, -1000), (3, 1000)]
    assert bank_balance(stack, user_no) == "120.25"

    headers = {"Authorization": f"Bearer {infra.internal_token}"}
    agent = stack.url("depository_agent")
    for record in recharges + withdraws:
        remote = requests.get(f"{agent}/l/records/{record['requestNo']}", headers=headers).json()["result"]
        assert remote["requestStatus"] == record["callbackStatus"], remote


def _notify(stack, infra, service_name: str, payload: dict) -> requests.Response:
    """A bank notification built independently of the project's code: `cryptography`, SPEC wire format."""
    with open(f"{infra.keys_dir}/bank_private.pem", "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    body = json.dumps(payload).encode("utf-8")
    signature = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return requests.post(f"{stack.url('depository_agent')}/gateway", params={
        "serviceName": service_name, "platformNo": "WANXINP2P",
        "reqData": base64.b64encode(body).decode(), "signature": base64.b64encode(signature).decode()})


def _recharge_result(gateway: dict, amount: str, ok: bool) -> dict:
    request_no = json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]
    return {"requestNo": request_no, "respCode": "00000" if ok else "10001", "respMsg": "ok" if ok else "declined",
            "status": 1 if ok else 2, "transactionStatus": "SUCCESS" if ok else "FAIL", "amount": amount}


def test_duplicated_and_reordered_notifications_apply_once(stack, infra):
    user = PlatformUser(stack)
    user_no = user.open_account()
    callback = {"callbackUrl": f"{user.uc}/#/callback"}
    first = user.gateway_request("/my/recharge-records", {"amount": "30.00", **callback})
    later = user.gateway_request("/my/recharge-records", {"amount": "40.00", **callback})

    # The later request's result arrives first; then the first one five times, then the later again.
    assert _notify(stack, infra, "RECHARGE", _recharge_result(later, "40.00", True)).text == "OK"
    for _ in range(5):
        assert _notify(stack, infra, "RECHARGE", _recharge_result(first, "30.00", True)).text == "OK"
    assert _notify(stack, infra, "RECHARGE", _recharge_result(later, "40.00", True)).text == "OK"
    # A contradicting result for a final record is recorded as an anomaly and never applied.
    assert _notify(stack, infra, "RECHARGE", _recharge_result(first, "30.00", False)).status_code == 200

    wait_for(lambda: all_final(user, "recharge", 2), what="both recharges final")
    wait_for(lambda: user.balance() == "70.00", what="balance of both recharges")
    balance, records = ledger_state(stack, infra, user_no)
    assert balance == 7000
    assert sorted(r["amount"] for r in records) == [3000, 4000]
    assert {r["callbackStatus"] for r in user.records("recharge")} == {1}
