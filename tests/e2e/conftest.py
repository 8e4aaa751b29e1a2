"""The whole platform as real processes, shared by the end-to-end tests of one module."""
import uuid

import pytest
import requests

from tests.support.stack import start_stack
from tests.support.waiting import wait_for  # also imported from here by the end-to-end tests

# Fast timings so that retries and polling settle within seconds in tests.
FAST = {
    "NOTIFIER_BACKOFF_BASE_SECONDS": "0.2",
    "NOTIFIER_BACKOFF_MAX_SECONDS": "1",
    "NOTIFIER_POLL_SECONDS": "0.1",
    "OUTBOX_POLL_MS": "50",
    "COMPENSATION_POLL_SECONDS": "1",
    "NETSAVE_POLL_SECONDS": "0.2",
    "RETRY_BASE_SECONDS": "0.2",
}


@pytest.fixture(scope="module")
def stack(infra, tmp_path_factory):
    """Every service and worker running against this run's databases, vhost and Redis prefix."""
    running = start_stack(infra, tmp_path_factory.mktemp("stack"), settings=FAST)
    yield running
    running.stop()


def bank_balance(stack, user_no: str) -> str:
    """The bank sandbox's balance of ``user_no`` (yuan, as text)."""
    return requests.get(f"{stack.url('bank_sandbox')}/balance-details/{user_no}").json()["balance"]


def set_faults(stack, **knobs) -> None:
    """Set the bank sandbox's fault knobs; with none, clear them all."""
    headers = {"Authorization": f"Bearer {stack.infra.internal_token}"}
    url = f"{stack.url('bank_sandbox')}/sandbox/faults"
    response = requests.post(url, json=knobs, headers=headers) if knobs else requests.delete(url, headers=headers)
    assert response.status_code == 200, response.text


class PlatformUser:
    """One user of the platform, driving user-center's API and confirming at the bank sandbox."""

    def __init__(self, stack, password: str = "s3cret-pass", bank_password: str = "246810"):
        self.stack = stack
        self.uc = stack.url("user_center")
        self.mobile = "1" + str(uuid.uuid4().int)[:10]
        self.bank_password = bank_password
        assert requests.post(f"{self.uc}/consumers", json={"mobile": self.mobile, "password": password}).status_code == 201
        token = requests.post(f"{self.uc}/tokens", json={"mobile": self.mobile, "password": password}).json()
        self.headers = {"Authorization": f"Bearer {token['result']['access_token']}"}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.uc}{path}", headers=self.headers, timeout=10, **kwargs)

    def profile(self) -> dict:
        return self.call("GET", "/my/consumers").json()["result"]

    def gateway_request(self, path: str, body: dict) -> dict:
        response = self.call("POST", path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()["result"]

    def confirm(self, gateway: dict, outcome: str = "success") -> dict:
        response = requests.post(f"{self.stack.url('bank_sandbox')}/sandbox/confirm", json={
            "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
            "password": self.bank_password, "outcome": outcome}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def open_account(self) -> str:
        gateway = self.gateway_request("/my/consumers", {
            "fullname": "张三", "idNumber": "110101199003077777", "bankCode": "ICBC",
            "cardNumber": "6222020200112233445", "mobile": self.mobile, "role": "I",
            "callbackUrl": f"{self.uc}/#/callback"})
        self.confirm(gateway)
        wait_for(lambda: self.profile()["depositoryStatus"] == "OPENED", what="account opened")
        return self.profile()["userNo"]

    def records(self, kind: str) -> list[dict]:
        return self.call("GET", f"/my/{kind}-records", params={"size": 100}).json()["result"]["records"]

    def balance(self) -> str:
        return self.call("GET", "/my/balances").json()["result"]["balance"]
