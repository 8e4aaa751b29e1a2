"""The funder `make run` and `make up` open (``python -m shared.funder``), against the real platform: one funder,
opened through user-center, the agent and the bank sandbox, funded by confirmed recharges to exactly the amount
asked, once however often it runs, and the userNo lending reads written for it."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import FAST
from tests.support.processes import run_module
from tests.support.stack import start_stack

from lending import config as lending_config

MILLION = 100_000_000  # ¥1,000,000.00 in fen


def fen(text: str) -> int:
    whole, cents = text.split(".")
    return int(whole) * 100 + int(cents)


class FunderRuns:
    """Runs of the funder command against one stack, with its state and output in the stack's folder."""

    def __init__(self, stack, state, output):
        self.stack, self.state, self.output = stack, state, output

    def run(self, *args: str):
        env = {"USER_CENTER_URL": self.stack.url("user_center"), "BANK_SANDBOX_URL": self.stack.url("bank_sandbox")}
        return run_module("shared.funder", "--state", str(self.state), "--output", str(self.output), *args,
                          env=env, timeout=240)

    def user_no(self) -> str:
        return self.output.read_text().strip()

    def login(self) -> dict:
        identity = json.loads(self.state.read_text())
        token = requests.post(f"{self.stack.url('user_center')}/tokens", timeout=10, json={
            "mobile": identity["mobile"], "password": identity["password"]}).json()["result"]["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def recharges(self) -> list[dict]:
        return requests.get(f"{self.stack.url('user_center')}/my/recharge-records", headers=self.login(),
                            params={"size": 100}, timeout=10).json()["result"]["records"]

    def bank_fen(self) -> int:
        answer = requests.get(f"{self.stack.url('bank_sandbox')}/balance-details/{self.user_no()}", timeout=10)
        return fen(answer.json()["balance"])

    def ledger_fen(self) -> int:
        answer = requests.get(f"{self.stack.url('beanpay_ledger')}/account/balance/query", timeout=10,
                              params={"eid": self.user_no()},
                              headers={"Authorization": f"Bearer {self.stack.infra.internal_token}"})
        return answer.json()["balance"]

    def totals(self) -> dict:
        return requests.get(f"{self.stack.url('bank_sandbox')}/sandbox/totals", timeout=10).json()


@pytest.fixture(scope="module")
def stack(infra, tmp_path_factory):
    """The platform as deploy/local.env runs it: a new bank user's card holds what the funder recharges."""
    settings = {**FAST, "SANDBOX_CARD_BALANCE": "10000000.00"}
    running = start_stack(infra, tmp_path_factory.mktemp("stack"), settings=settings, workers=1,
                          worker_names=("gateway_notify", "outbox_relay", "notifier"))
    yield running
    running.stop()


@pytest.fixture
def funder(stack, tmp_path):
    return FunderRuns(stack, tmp_path / "funder.json", tmp_path / "funder_user_nos")


def test_running_twice_opens_one_funder_with_ten_million_at_the_bank_and_in_the_ledger(funder, stack):
    first = funder.run()
    assert first.returncode == 0, first.stderr
    user_no = funder.user_no()
    assert user_no in first.stdout and "10,000,000.00" in first.stdout
    assert funder.bank_fen() == funder.ledger_fen() == 10 * MILLION
    assert sorted(fen(r["amount"]) for r in funder.recharges() if r["callbackStatus"] == 1) == [MILLION] * 10
    assert funder.state.stat().st_mode & 0o077 == 0, "the funder's passwords are its owner's only"
    totals = funder.totals()

    again = funder.run()
    assert again.returncode == 0, again.stderr
    assert funder.user_no() == user_no
    assert funder.bank_fen() == funder.ledger_fen() == 10 * MILLION
    assert len(funder.recharges()) == 10 and funder.totals() == totals
    # lending reads exactly this file (FUNDER_USER_NOS_FILE), as make run and the test stack point it
    assert lending_config.funders({"FUNDER_USER_NOS": (), "FUNDER_USER_NOS_FILE": str(funder.output)}) == (user_no,)


def test_a_funder_funded_in_part_gets_only_what_is_missing_and_an_unconfirmed_recharge_counts_nothing(funder, stack):
    assert funder.run("--amount", "2500000.00").returncode == 0
    assert sorted(fen(r["amount"]) for r in funder.recharges()) == [MILLION // 2, MILLION, MILLION]
    # a recharge asked for and never confirmed at the bank (a run cut short): no money moved, none counted
    abandoned = requests.post(f"{stack.url('user_center')}/my/recharge-records", headers=funder.login(), timeout=10,
                              json={"amount": "1000000.00", "callbackUrl": f"{stack.url('user_center')}/#/callback"})
    assert abandoned.status_code in (200, 201), abandoned.text
    finished = funder.run("--wait", "5")
    assert finished.returncode == 0, finished.stderr
    assert funder.bank_fen() == funder.ledger_fen() == 10 * MILLION
    confirmed = sorted(fen(r["amount"]) for r in funder.recharges() if r["callbackStatus"] == 1)
    assert sum(confirmed) == 10 * MILLION and max(confirmed) <= MILLION


def test_two_runs_at_once_open_one_funder_and_fund_it_once(funder):
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: funder.run(), range(2)))
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    assert all(funder.user_no() in run.stdout for run in runs)
    assert funder.bank_fen() == funder.ledger_fen() == 10 * MILLION
    assert sorted(fen(r["amount"]) for r in funder.recharges()) == [MILLION] * 10


@pytest.mark.parametrize("state", ["", "{", "[]", '{"mobile": "19912345678"}', "\x00"])
def test_a_state_file_that_is_not_a_funders_is_refused_and_nothing_is_written(funder, state):
    funder.state.write_text(state)
    refused = funder.run()
    assert refused.returncode == 1 and "not a funder's state" in refused.stderr, refused.stderr
    assert not funder.output.exists() and funder.state.read_text() == state


def test_the_test_stack_opens_the_funder_its_lending_reads(stack):
    user_no = stack.open_funder("100.00")
    assert stack.open_funder("100.00") == user_no
    lending = stack.env("lending")
    assert lending_config.funders({"FUNDER_USER_NOS": (), "FUNDER_USER_NOS_FILE": lending["FUNDER_USER_NOS_FILE"]}) \
        == (user_no,)


@pytest.mark.parametrize("amount", ["0", "-1.00", "1e9", "10000000.001", "NaN", "１"])
def test_a_bad_amount_is_refused_before_anything_is_opened(funder, amount):
    refused = funder.run("--amount", amount)
    assert refused.returncode == 1 and "--amount" in refused.stderr
    assert not funder.state.exists() and not funder.output.exists()


def test_a_platform_that_does_not_answer_is_reported_and_nothing_is_written(tmp_path):
    env = {"USER_CENTER_URL": "http://127.0.0.1:9", "BANK_SANDBOX_URL": "http://127.0.0.1:9"}
    refused = run_module("shared.funder", "--state", str(tmp_path / "s.json"), "--output", str(tmp_path / "out"),
                         "--wait", "1", env=env)
    assert refused.returncode == 1 and "/healthz" in refused.stderr
    assert not (tmp_path / "out").exists()
