"""The lending platform as its users see it, for the end-to-end tests and the lending bench: the partner
sandbox, lending's partner API (signed as the partner signs), the bank sandbox, the ledger, and a borrower
opening the account through the one-time link and using user-center like any user."""
import base64
import json
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import requests
from psycopg.rows import dict_row

from shared.partner_envelope import seal
from tests.lending.conftest import new_person
from tests.support.link_page import handoff_of
from tests.support.stack import LENDING_WORKERS, PLATFORM_WORKERS, Stack, start_stack
from tests.support.waiting import wait_for

PLATFORM_NO = "WANXINP2P"
CARD_BALANCE = "10000000.00"  # each new bank user's card; the funder recharges from its own
FUNDED = "1000000.00"
BANK_PASSWORD = "135790"
AMOUNT, TERM = 1_200_000, 6
FEE = 24_000  # SERVICE_FEE_RATE 0.02 of AMOUNT


def fen(yuan: str) -> int:
    return int(Decimal(yuan) * 100)


def start_lending_platform(infra, log_dir: Path, settings: dict | None = None, funded: str = FUNDED,
                           workers: int = 1) -> Stack:
    """Every service, the platform's workers and lending's, and a funder opened and funded with ``funded``
    (yuan) as `make run` does (:meth:`Stack.open_funder`); its userNo as ``stack.funder``."""
    settings = {"SANDBOX_CARD_BALANCE": CARD_BALANCE, **(settings or {})}
    stack = start_stack(infra, log_dir, settings=settings, workers=workers,
                        worker_names=PLATFORM_WORKERS + LENDING_WORKERS)
    try:
        stack.funder = stack.open_funder(funded)
    except BaseException:
        stack.stop()
        raise
    return stack


class Platform:
    """What the tests read and drive: the partner sandbox, lending's partner API, the bank, the ledger."""

    def __init__(self, stack):
        self.stack = stack
        self.token = {"Authorization": f"Bearer {stack.infra.internal_token}"}
        self.secret = stack.infra.partner_secret

    def sim(self, method: str, path: str, **kwargs) -> dict:
        response = requests.request(method, f"{self.stack.url('partner_sandbox')}{path}", timeout=30, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def view(self, order_no: str) -> dict:
        return self.sim("GET", f"/sim/orders/{order_no}")

    def events(self, order_no: str) -> list[str]:
        return [callback["event"] for callback in self.view(order_no)["callbacks"]]

    def partner(self, name: str, biz: dict) -> tuple[int, dict]:
        """A call to lending's partner API, signed as the partner signs it."""
        envelope = seal(biz, "rongshu", self.secret, int(time.time() * 1000))
        response = requests.post(f"{self.stack.url('lending')}/rongshu/{name}", json=envelope, timeout=30)
        return response.status_code, response.json()

    def bank(self, user_no: str) -> dict:
        return requests.get(f"{self.stack.url('bank_sandbox')}/balance-details/{user_no}", timeout=10).json()

    def totals(self) -> dict:
        return {key: fen(value) for key, value in
                requests.get(f"{self.stack.url('bank_sandbox')}/sandbox/totals", timeout=10).json().items()}

    def ledger(self, eid: str) -> int | None:
        answer = requests.get(f"{self.stack.url('beanpay_ledger')}/account/balance/query", params={"eid": eid},
                              headers=self.token, timeout=10)
        return answer.json()["balance"] if answer.status_code == 200 else None

    def differences(self, user_nos) -> dict:
        """``{userNo: (bank available, bank frozen, ledger)}`` for each user whose bank and ledger differ or
        who still has money frozen."""
        differ = {}
        for user_no in user_nos:
            bank = self.bank(user_no)
            available, frozen = fen(bank["balance"]), fen(bank["frozen"])
            ledger = self.ledger(user_no) or 0
            if available != ledger or frozen:
                differ[user_no] = (available, frozen, ledger)
        return differ

    def database(self):
        return psycopg.connect(self.stack.infra.database_url("lending"), row_factory=dict_row, autocommit=True)

    def borrows(self, order_no: str) -> list[dict]:
        with self.database() as conn:
            return conn.execute("select borrow_no, status from borrows where order_no = %s", (order_no,)).fetchall()

    def approved_order(self, **person) -> tuple[str, dict]:
        """An order pushed through the partner sandbox, approved by the credit engine, a card bound."""
        who = new_person(**person)
        pushed = self.sim("POST", "/sim/orders", json={**who, "loanAmount": AMOUNT, "loanTerm": TERM})
        assert pushed["lending"]["code"] == 0, pushed
        order_no = pushed["orderNo"]
        wait_for(lambda: self.view(order_no)["queries"]["audit/result"]["data"]["status"] == 6001, timeout=60,
                 what="approval")
        bound = self.sim("POST", f"/sim/orders/{order_no}/bind-card", json={})
        assert bound["data"] == {"bound": True, "isDefault": True}, bound
        return order_no, who

    def open_through_link(self, url: str) -> "Borrower":
        """The borrower's browser: the one-time link (looked at, then used), the bank's account-opening page
        confirmed with a new transaction password; returns the borrower signed in by the link."""
        assert url.startswith(self.stack.url("user_center") + "/open-account/"), url
        assert requests.get(url, timeout=10).status_code == 200  # a look uses nothing
        used = requests.post(url, timeout=30)
        assert used.status_code == 200, used.text
        handoff = handoff_of(used.text)
        assert handoff["service-name"] == "PERSONAL_REGISTER", handoff
        borrower = Borrower(self, handoff["token"])
        borrower.confirm({"platformNo": handoff["platform-no"], "reqData": handoff["req-data"],
                          "signature": handoff["signature"]})
        again = requests.post(url, timeout=30)
        assert again.status_code == 410 and handoff_of(again.text) == {}  # used once
        wait_for(lambda: borrower.profile()["depositoryStatus"] == "OPENED", timeout=30, what="account opened")
        return borrower


class Borrower:
    """A borrower signed in by the one-time link's access token, using the platform as any user does."""

    def __init__(self, platform: Platform, token: str):
        self.platform, self.uc = platform, platform.stack.url("user_center")
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.uc}{path}", headers=self.headers, timeout=30, **kwargs)

    def profile(self) -> dict:
        return self.call("GET", "/my/consumers").json()["result"]

    def confirm(self, gateway: dict) -> None:
        """The bank's page, confirmed with the transaction password (set by the account opening)."""
        answer = requests.post(f"{self.platform.stack.url('bank_sandbox')}/sandbox/confirm", timeout=30, json={
            "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
            "password": BANK_PASSWORD})
        assert answer.status_code == 200, answer.text

    def recharge(self, amount: str) -> None:
        """A recharge through user-center and the agent, confirmed at the bank; waits for its ledger credit."""
        created = self.call("POST", "/my/recharge-records", json={"amount": amount,
                                                                   "callbackUrl": f"{self.uc}/#/callback"})
        assert created.status_code in (200, 201), created.text
        gateway = created.json()["result"]
        self.confirm(gateway)
        request_no = json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]
        wait_for(lambda: any(r["requestNo"] == request_no and r["callbackStatus"] == 1 for r in self.call(
            "GET", "/my/recharge-records", params={"size": 100}).json()["result"]["records"]), what="recharge")

    def loans(self) -> list[dict]:
        answer = self.call("GET", "/my/loans")
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]["loans"]
