"""Known data created through the services' own APIs before fuzzing, so cases reach past "not found"."""
import base64
import json
import time
import uuid
from dataclasses import dataclass

import requests

LEDGER_EID = "fuzz-wallet"
LEDGER_SPKG_ID = "fuzz-pkg"
LEDGER_DEDUCT_TRADE_NO = "fuzz-seed-deduct"
LEDGER_CAPACITY_TRADE_NO = "fuzz-seed-capacity"
PASSWORD = "fuzz-pass-2468"
BANK_PASSWORD = "135790"
TIMEOUT = 10


def bearer(token: str) -> dict:
    """The Authorization header for a service token or a user's access token."""
    return {"Authorization": f"Bearer {token}"}


def _ok(response: requests.Response, what: str) -> dict:
    assert response.status_code in (200, 201), f"seeding {what}: {response.status_code} {response.text[:300]}"
    return response.json()


def seed_ledger(url: str, token: str) -> None:
    """A funded wallet with a refundable deduct and a service package with a refundable use."""
    eid, spkg = LEDGER_EID, LEDGER_SPKG_ID
    for path, body in [
        ("/account/create", {"eid": eid, "name": "fuzz wallet"}),
        ("/account/balance/add", {"eid": eid, "trade_no": "fuzz-seed-add", "amount": 10**9}),
        ("/account/balance/deduct", {"eid": eid, "trade_no": LEDGER_DEDUCT_TRADE_NO, "amount": 5000}),
        ("/package/create", {"eid": eid, "spkg_id": spkg, "name": "fuzz package", "total": 10**6,
                             "daily": 10**5, "expires": "20991231"}),
        ("/package/capacity/deduct", {"eid": eid, "spkg_id": spkg, "trade_no": LEDGER_CAPACITY_TRADE_NO,
                                      "num": 10}),
    ]:
        _ok(requests.post(url + path, json=body, headers=bearer(token), timeout=TIMEOUT), path)


@dataclass
class SeededUser:
    """A user-center user: its bearer token, userNo, and (once opened) its register requestNo."""

    mobile: str
    token: str
    user_no: str
    register_request_no: str = ""


def new_user(user_center: str) -> SeededUser:
    """Register and log in a fresh user."""
    mobile = "13" + str(uuid.uuid4().int)[:9]
    _ok(requests.post(f"{user_center}/consumers", json={"mobile": mobile, "password": PASSWORD},
                      timeout=TIMEOUT), "register")
    token = _ok(requests.post(f"{user_center}/tokens", json={"mobile": mobile, "password": PASSWORD},
                              timeout=TIMEOUT), "login")["result"]["access_token"]
    profile = _ok(requests.get(f"{user_center}/my/consumers", headers=bearer(token), timeout=TIMEOUT), "profile")
    return SeededUser(mobile, token, profile["result"]["userNo"])


def open_user(stack, ledger_token: str, balance_fen: int = 10**9) -> SeededUser:
    """A user whose depository account is OPENED through the real bank flow, with money in the ledger."""
    user_center = stack.url("user_center")
    user = new_user(user_center)
    gateway = _ok(requests.post(f"{user_center}/my/consumers", headers=bearer(user.token), timeout=TIMEOUT, json={
        "fullname": "张三", "idNumber": "110101199003071234", "bankCode": "ICBC",
        "cardNumber": "6222020200112233445", "mobile": user.mobile, "role": "I",
        "callbackUrl": f"{user_center}/#/callback"}), "open account")["result"]
    user.register_request_no = json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]
    _ok(requests.post(f"{stack.url('bank_sandbox')}/sandbox/confirm", timeout=TIMEOUT, json={
        "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
        "password": BANK_PASSWORD}), "bank confirm")
    deadline = time.monotonic() + 30
    while _profile(user_center, user)["depositoryStatus"] != "OPENED":
        assert time.monotonic() < deadline, "seeded user's depository account did not open within 30 s"
        time.sleep(0.2)
    _ok(requests.post(f"{stack.url('beanpay_ledger')}/account/balance/add", headers=bearer(ledger_token),
                      timeout=TIMEOUT, json={"eid": user.user_no, "trade_no": "fuzz-seed-funds",
                                             "amount": balance_fen}), "fund user")
    return user


def _profile(user_center: str, user: SeededUser) -> dict:
    return _ok(requests.get(f"{user_center}/my/consumers", headers=bearer(user.token), timeout=TIMEOUT),
               "profile")["result"]
