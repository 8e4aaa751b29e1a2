"""Lending end to end with every service a real process: the seven services of tests/support/stack.py, the
depository platform's workers and all of lending's, on databases of this module's own.

The funder is opened and funded through the platform's own flows (``python -m shared.funder``). An order
pushed through the partner sandbox is approved, confirmed before the borrower's account is opened (the
one-time link, user-center, the agent, the bank sandbox's confirmation) and after it, disbursed by the
bank's transaction services, repaid for one period with money the borrower recharged through the
platform, and settled early. A refused order gets its callback and blocks re-applying. Races with real
processes: loan/confirm repeated concurrently while two state-check jobs run create one borrow; repay
repeated concurrently freezes once. After each flow, for every user involved, the bank's available
balance equals the ledger's, nothing stays frozen, and the bank's totals moved only by the recharges.
"""
import base64
import hashlib
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from shared.partner_envelope import seal
from tests.e2e.conftest import FAST as PLATFORM_FAST
from tests.lending.conftest import FAST as LENDING_FAST
from tests.lending.conftest import id_number, new_person
from tests.support.infra import separate_infra
from tests.support.processes import run_module
from tests.support.stack import LENDING_WORKERS, PLATFORM_WORKERS, start_stack
from tests.support.waiting import wait_for
from tests.user_center.test_borrowers import handoff_of

PLATFORM_NO = "WANXINP2P"
CARD_BALANCE = "2000000.00"  # each new bank user's card; the funder recharges from its own
FUNDED = "1000000.00"
BANK_PASSWORD = "135790"
AMOUNT, TERM = 1_200_000, 6
FEE = 24_000  # SERVICE_FEE_RATE 0.02 of AMOUNT


def fen(yuan: str) -> int:
    return int(Decimal(yuan) * 100)


@pytest.fixture(scope="module")
def stack(infra, tmp_path_factory):
    """The whole platform on databases of its own (the platform's account moves only by these tests), with
    a funder holding ¥1,000,000.00 at the bank and in the ledger, and two depository-state-check jobs."""
    log_dir = tmp_path_factory.mktemp("lending-stack")
    settings = {**PLATFORM_FAST, **{key: str(value) for key, value in LENDING_FAST.items()},
                "SANDBOX_CARD_BALANCE": CARD_BALANCE}
    with separate_infra(infra) as own:
        running = start_stack(own, log_dir, settings=settings, workers=1,
                              worker_names=PLATFORM_WORKERS + LENDING_WORKERS)
        try:
            funded = run_module("shared.funder", "--state", str(log_dir / "funder.json"), "--output",
                                str(log_dir / "funder_user_nos"), "--amount", FUNDED, timeout=240,
                                env={"USER_CENTER_URL": running.url("user_center"),
                                     "BANK_SANDBOX_URL": running.url("bank_sandbox")})
            assert funded.returncode == 0, funded.stdout + funded.stderr
            running.funder = (log_dir / "funder_user_nos").read_text().strip()
            yield running
        finally:
            running.stop()


class Platform:
    """What the tests read and drive: the partner sandbox, lending's partner API, the bank, the ledger."""

    def __init__(self, stack):
        self.stack = stack
        self.token = {"Authorization": f"Bearer {stack.infra.internal_token}"}
        with open(f"{stack.infra.keys_dir}/rongshu_secret", encoding="utf-8") as handle:
            self.secret = handle.read().strip()

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


@pytest.fixture(scope="module")
def platform(stack) -> Platform:
    return Platform(stack)


def quiet(platform: Platform, user_nos, what: str) -> None:
    """Wait until every call is final and every posting posted: bank = ledger, nothing frozen."""
    wait_for(lambda: platform.differences(user_nos) == {}, timeout=60, what=what)


def test_a_loan_from_push_to_early_settlement_on_the_real_platform(platform, stack):
    before = platform.totals()
    order_no, who = platform.approved_order(name="王五")

    first = platform.sim("POST", f"/sim/orders/{order_no}/confirm")
    assert first["data"]["status"] == "OPEN_ACCOUNT", first
    borrower = platform.open_through_link(first["data"]["openAccountUrl"])
    user_no = borrower.profile()["userNo"]
    second = platform.sim("POST", f"/sim/orders/{order_no}/confirm")  # or the state check was first: the same
    assert second["data"]["status"] == "ACCEPTED" and second["data"]["borrowNo"], second
    assert [b["borrow_no"] for b in platform.borrows(order_no)] == [second["data"]["borrowNo"]]

    wait_for(lambda: platform.view(order_no)["queries"]["loan/result"]["data"]["status"] == 7001, timeout=90,
             what="disbursement")
    wait_for(lambda: "loan.succeeded" in platform.events(order_no), timeout=30, what="loan.succeeded")
    quiet(platform, [user_no, stack.funder, PLATFORM_NO], "the disbursement mirrored")
    assert fen(platform.bank(user_no)["balance"]) == AMOUNT - FEE
    assert [(loan["amount"], loan["term"]) for loan in borrower.loans()] == [("12000.00", TERM)]

    borrower.recharge("500.00")  # the interest comes from the borrower's own money
    one = platform.sim("POST", f"/sim/orders/{order_no}/repay", json={"periods": [1]})
    assert one["repay"]["data"]["status"] == "PROCESSING", one
    wait_for(lambda: platform.events(order_no).count("repay.result") == 1, timeout=60, what="period 1 repaid")
    plan = platform.view(order_no)["queries"]["repay/plan"]["data"]["plans"]
    assert plan[0]["status"] == 1 and all(line["status"] == 0 for line in plan[1:])

    rest = platform.sim("POST", f"/sim/orders/{order_no}/repay", json={"periods": "all"})
    assert rest["trial"]["data"]["principal"] == AMOUNT - plan[0]["principal"]
    assert rest["trial"]["data"]["interest"] == 0  # settled on the disbursement day: no interest after today
    wait_for(lambda: platform.events(order_no).count("repay.result") == 2, timeout=60, what="settled early")
    final = platform.view(order_no)
    assert all(line["status"] == 1 for line in final["queries"]["repay/plan"]["data"]["plans"])
    assert [c["biz"]["status"] for c in final["callbacks"] if c["event"] == "repay.result"] == ["SUCCESS"] * 2
    assert [b["status"] for b in platform.borrows(order_no)] == [40]

    quiet(platform, [user_no, stack.funder, PLATFORM_NO], "ledger = bank for borrower, funder and platform")
    paid = AMOUNT + plan[0]["interest"]
    assert fen(platform.bank(user_no)["balance"]) == AMOUNT - FEE + 50_000 - paid
    after = platform.totals()
    assert after["frozen"] == 0
    inside = ("available", "frozen", "platform")
    assert sum(after[k] for k in inside) - sum(before[k] for k in inside) == 50_000  # only the recharge entered
    assert after["total"] == before["total"] + fen(CARD_BALANCE)  # the borrower's new card, nothing else


def test_a_refused_order_is_called_back_and_blocks_reapplying(platform):
    born = date.today() - timedelta(days=365 * 60 + 30)  # 60: above CREDIT_MAX_AGE
    who = new_person(idNumber=id_number(born))
    pushed = platform.sim("POST", "/sim/orders", json={**who, "loanAmount": AMOUNT, "loanTerm": TERM})
    order_no = pushed["orderNo"]
    wait_for(lambda: "credit.rejected" in platform.events(order_no), timeout=60, what="credit.rejected")
    [callback] = [c for c in platform.view(order_no)["callbacks"] if c["event"] == "credit.rejected"]
    can_loan = (date.today() + timedelta(days=30)).isoformat()
    assert callback["biz"]["status"] == 6004 and callback["biz"]["canLoanTime"] in (
        can_loan, (date.today() + timedelta(days=31)).isoformat())  # the refusal's day in Asia/Shanghai
    assert platform.view(order_no)["queries"]["audit/result"]["data"]["status"] == 6004

    md5 = {key: hashlib.md5(who[field].encode()).hexdigest() for key, field in
           (("mobileMd5", "mobile"), ("idNumberMd5", "idNumber"))}
    status, answer = platform.partner("user/filter", md5)
    assert status == 200 and answer["data"]["admit"] is False
    assert answer["data"]["canLoanTime"] == callback["biz"]["canLoanTime"]
    again = platform.sim("POST", "/sim/orders", json={**who, "loanAmount": AMOUNT, "loanTerm": TERM})
    assert again["lending"]["code"] == 1009, again
    assert platform.borrows(order_no) == []


def race(calls: int, call) -> list:
    """``calls`` calls of ``call(index)`` released together from as many threads."""
    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(call, range(calls)))


def test_concurrent_confirmations_and_two_state_checks_create_one_borrow(platform, stack):
    stack.start_worker("depository_state_check")  # a second replica beside the first: both lease and create
    order_no, _ = platform.approved_order()
    first = platform.sim("POST", f"/sim/orders/{order_no}/confirm")
    assert first["data"]["status"] == "OPEN_ACCOUNT"
    borrower = platform.open_through_link(first["data"]["openAccountUrl"])
    # the account is open now: confirmations race each other and the state checks (every second)
    answers = race(12, lambda _: platform.partner("loan/confirm", {"orderNo": order_no}))
    assert all(status == 200 for status, _ in answers), answers
    borrow_nos = {answer["data"]["borrowNo"] for _, answer in answers}
    [borrow] = platform.borrows(order_no)
    assert borrow_nos == {borrow["borrow_no"]}
    time.sleep(2.5)  # two more passes of each state check: still one borrow
    assert len(platform.borrows(order_no)) == 1
    wait_for(lambda: platform.view(order_no)["queries"]["loan/result"]["data"]["status"] == 7001, timeout=90,
             what="disbursement")
    quiet(platform, [borrower.profile()["userNo"], stack.funder, PLATFORM_NO], "the disbursement mirrored")


def test_concurrent_repeats_of_a_repayment_freeze_once(platform, stack):
    order_no, _ = platform.approved_order()
    borrower = platform.open_through_link(platform.sim("POST", f"/sim/orders/{order_no}/confirm")["data"]
                                          ["openAccountUrl"])
    user_no = borrower.profile()["userNo"]
    wait_for(lambda: platform.sim("POST", f"/sim/orders/{order_no}/confirm")["data"]["status"] == "ACCEPTED",
             timeout=30, what="the borrow")
    wait_for(lambda: platform.view(order_no)["queries"]["loan/result"]["data"]["status"] == 7001, timeout=90,
             what="disbursement")
    borrower.recharge("500.00")
    quiet(platform, [user_no, stack.funder, PLATFORM_NO], "the disbursement and the recharge mirrored")
    available = fen(platform.bank(user_no)["balance"])

    status, trial = platform.partner("repay/trial", {"orderNo": order_no, "periods": [1]})
    assert status == 200
    amount = trial["data"]["amount"]
    repay = {"orderNo": order_no, "repayNo": "R" + uuid.uuid4().hex[:20].upper(), "periods": [1], "amount": amount}
    others = [{**repay, "repayNo": "R" + uuid.uuid4().hex[:20].upper()} for _ in range(4)]
    bodies = [repay] * 8 + others
    answers = race(len(bodies), lambda index: platform.partner("repay", bodies[index]))
    same = [answer for (status, answer), body in zip(answers, bodies) if body is repay]
    assert all(answer["code"] == 0 and answer["data"]["status"] in ("PROCESSING", "SUCCESS") for answer in same) \
        or all(answer["code"] == 1009 for answer in same), answers  # one of the others may have won
    accepted = {body["repayNo"] for (status, answer), body in zip(answers, bodies) if status == 200}
    assert len(accepted) == 1, answers
    [winner] = accepted
    wait_for(lambda: platform.partner("repay/result", {"repayNo": winner})[1]["data"]["status"] == "SUCCESS",
             timeout=60, what="the repayment")
    with platform.database() as conn:
        freezes = conn.execute("select count(*) as n from depository_calls c join borrows b on b.id = c.borrow_id"
                               " where b.order_no = %s and c.purpose = 'repay-freeze'", (order_no,)).fetchone()["n"]
    assert freezes == 1
    quiet(platform, [user_no, stack.funder, PLATFORM_NO], "the repayment mirrored")
    assert fen(platform.bank(user_no)["balance"]) == available - amount
    plan = platform.view(order_no)["queries"]["repay/plan"]["data"]["plans"]
    assert [line["status"] for line in plan] == [1] + [0] * (TERM - 1)
    assert re.fullmatch(r"R[0-9A-F]{20}", winner)
