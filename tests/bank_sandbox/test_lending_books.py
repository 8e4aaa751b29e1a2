"""Property: whatever the sequence of users opened, recharges and withdrawals, projects, freezes, cancels,
loans, repayments and repeated requests, the real sandbox (gunicorn, over HTTP) answers each call with
the result a model of the bank predicts, and after every step its books balance: /sandbox/totals has
changed only by the users opened, no balance or frozen amount is below zero, every balance is what the
model says, and the statement lines add up to every balance change (the platform's account and the
cards included).

A hypothesis state machine drives it (RuleBasedStateMachine): the model is a second, plain statement of
the rules of docs/bank_sandbox.md ("Transaction services"), so a wrong result code is caught as surely
as a wrong fen.
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, event, settings as hypothesis_settings, strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from tests.bank_sandbox.bank_client import PLATFORM_NO, BankClient, line_effects, yuan
from tests.bank_sandbox.conftest import request_times

pytestmark = pytest.mark.e2e

FREEZE, CANCEL, LOAN, REPAY = ("USER_AUTO_PRE_TRANSACTION", "CANCEL_PRE_TRANSACTION", "CONFIRM_LOAN",
                               "CONFIRM_REPAYMENT")
OK, BAD, SHORT, NO_PRE, DIFFER = "00000", "00003", "30042", "30010", "30050"
NEXT_STATUSES = {"COLLECTING": {"FULLY", "REPAYING", "MISCARRY"}, "FULLY": {"COLLECTING", "REPAYING", "MISCARRY"},
                 "REPAYING": {"CLEARED"}, "MISCARRY": set(), "CLEARED": set()}
RAISING = ("COLLECTING", "FULLY")


@dataclass
class Account:
    card: int
    available: int = 0
    frozen: int = 0


@dataclass
class Project:
    borrower: str
    amount: int
    status: str = "COLLECTING"
    raising: int = 0
    loaned: int = 0
    lenders: list = field(default_factory=list)  # in the order they lent (repeatable draws)


@dataclass
class Freeze:
    user: str
    project: str
    biz_type: str
    amount: int
    state: str = "FROZEN"


class LendingBooks(RuleBasedStateMachine):
    """The bank and its model, step by step (``client`` and ``card_fen`` are set by the test). Every rule
    draws its users, projects and freezes from the model's state, mostly ones that can succeed, sometimes
    any (an unknown requestNo included), so that both the movements and the refusals get their turn."""

    client: BankClient = None
    card_fen: int = 0

    def __init__(self):
        super().__init__()
        self.platform = self.client.platform
        self.started = datetime.now(timezone.utc)
        self.baseline = self.client.totals()
        self.accounts: dict[str, Account] = {}
        self.projects_by_no: dict[str, Project] = {}
        self.freezes_by_no: dict[str, Freeze] = {}
        self.platform_gain = 0
        self.request_nos: set[str] = set()
        self.last: tuple | None = None

    # --- calls -------------------------------------------------------------------------------------------
    def _service(self, service_name: str, payload: dict, expected: str) -> None:
        self.request_nos.add(payload["requestNo"])
        status, result = self.client.call(service_name, payload)
        assert (status, result["requestNo"], result["respCode"], result["status"]) == \
            (200, payload["requestNo"], expected, 1 if expected == OK else 2), (service_name, payload, result)
        self.last = (service_name, payload, result)
        event(f"{service_name} {expected}")

    def _gateway(self, service_name: str, payload: dict, expected: str) -> None:
        self.request_nos.add(payload["requestNo"])
        answer = self.client.confirm(service_name, payload)
        assert (answer["code"], answer["status"]) == (expected, 1 if expected == OK else 2), answer

    @staticmethod
    def _pick(data, choices, label: str):
        """One of ``choices`` in a repeatable order (the model's insertion order; a set of names sorted): the
        userNos and requestNos are new in every run, so their own order would make the draws differ."""
        ordered = sorted(choices) if isinstance(choices, (set, frozenset)) else list(choices)
        return data.draw(st.sampled_from(ordered), label=label)

    def _mostly(self, data, good, anything, label: str):
        """One of ``good`` three times in four (when there is one), else one of ``anything``."""
        if good and data.draw(st.integers(0, 3), label=f"{label}: an odd one?"):
            return self._pick(data, good, label)
        return self._pick(data, anything, label)

    # --- the start: three funded users, a project raising money and two tenders --------------------------
    @initialize()
    def a_project_raising_money(self):
        users = [self._open() for _ in range(3)]
        for user in users:
            self._recharge(user, 5_000_000)
        project = self._create_project(users[0], 1_000_000)
        for lender, amount in ((users[1], 300_000), (users[2], 200_000)):
            self._freeze(lender, project, "TENDER", amount)

    # --- users and their cards ---------------------------------------------------------------------------
    @precondition(lambda self: len(self.accounts) < 6)
    @rule()
    def open_user(self):
        self._open()

    def _open(self) -> str:
        user_no = self.client.open_user()
        self.accounts[user_no] = Account(card=self.card_fen)
        return user_no

    @rule(data=st.data(), amount=st.integers(1, 3_000_000))
    def recharge(self, data, amount):
        self._recharge(self._pick(data, self.accounts, "user"), amount)

    def _recharge(self, user: str, amount: int) -> None:
        account = self.accounts[user]
        expected = OK if account.card >= amount else "20001"
        self._gateway("RECHARGE", self.platform.recharge(user, yuan(amount)), expected)
        if expected == OK:
            account.card -= amount
            account.available += amount

    @rule(data=st.data(), amount=st.integers(1, 500_000), commission=st.integers(0, 1_000))
    def withdraw(self, data, amount, commission):
        user = self._pick(data, self.accounts, "user")
        account = self.accounts[user]
        expected = OK if account.available >= amount + commission else "20002"
        self._gateway("WITHDRAW", self.platform.withdraw(user, yuan(amount), yuan(commission)), expected)
        if expected == OK:
            account.available -= amount + commission
            account.card += amount
            self.platform_gain += commission

    # --- projects ----------------------------------------------------------------------------------------
    @precondition(lambda self: len(self.projects_by_no) < 4)
    @rule(data=st.data(), amount=st.integers(1, 2_000_000))
    def create_project(self, data, amount):
        self._create_project(self._pick(data, self.accounts, "borrower"), amount)

    def _create_project(self, borrower: str, amount: int) -> str:
        payload = self.platform.project(borrower, yuan(amount))
        self._service("CREATE_PROJECT", payload, OK)
        self.projects_by_no[payload["projectNo"]] = Project(borrower, amount)
        return payload["projectNo"]

    @rule(data=st.data())
    def modify_project(self, data):
        project = self._pick(data, self.projects_by_no, "project")
        model = self.projects_by_no[project]
        forward = NEXT_STATUSES[model.status]
        # mostly a status that keeps the project raising, so that loans and repayments get their turn
        keep = [status for status in RAISING if status == model.status or status in forward]
        pick = data.draw(st.integers(0, 3), label="which kind")
        choices = keep if pick < 2 and keep else forward if pick == 2 and forward else NEXT_STATUSES
        status = self._pick(data, choices, "status")
        expected = OK if status == model.status or status in forward else BAD
        self._service("MODIFY_PROJECT", self.platform.project_status(project, status), expected)
        if expected == OK:
            model.status = status

    # --- freezes -----------------------------------------------------------------------------------------
    @rule(data=st.data())
    def tender(self, data):
        open_projects = [number for number, model in self.projects_by_no.items() if model.status in RAISING]
        project = self._mostly(data, open_projects, self.projects_by_no, "project")
        model = self.projects_by_no[project]
        user = self._mostly(data, [user for user in self.accounts if user != model.borrower], self.accounts, "funder")
        room = model.amount - model.raising - model.loaned
        self._freeze(user, project, "TENDER", self._amount(data, min(room, self.accounts[user].available)))

    @rule(data=st.data())
    def repayment_freeze(self, data):
        lent = [number for number, model in self.projects_by_no.items() if model.lenders]
        project = self._mostly(data, lent, self.projects_by_no, "project")
        model = self.projects_by_no[project]
        user = self._mostly(data, [model.borrower], self.accounts, "borrower")
        self._freeze(user, project, "REPAYMENT", self._amount(data, self.accounts[user].available))

    @staticmethod
    def _amount(data, fits: int) -> int:
        """Mostly an amount that fits, sometimes any."""
        return data.draw(st.one_of(st.integers(1, max(1, fits // 3)), st.integers(1, max(1, fits)),
                                   st.integers(1, 3_000_000)), label="amount")

    def _freeze(self, user: str, project: str, biz_type: str, amount: int) -> None:
        model, account = self.projects_by_no[project], self.accounts[user]
        tender = biz_type == "TENDER"
        if tender and (user == model.borrower or model.status not in RAISING):
            expected = BAD
        elif not tender and user != model.borrower:
            expected = BAD
        elif tender and model.raising + model.loaned + amount > model.amount:
            expected = DIFFER
        else:
            expected = OK if account.available >= amount else SHORT
        payload = self.platform.freeze(user, yuan(amount), biz_type, project)
        self._service(FREEZE, payload, expected)
        if expected == OK:
            account.available -= amount
            account.frozen += amount
            if tender:
                model.raising += amount
            self.freezes_by_no[payload["requestNo"]] = Freeze(user, project, biz_type, amount)

    def _held(self, biz_type: str | None = None, project: str | None = None) -> list[str]:
        return [number for number, freeze in self.freezes_by_no.items() if freeze.state == "FROZEN"
                and biz_type in (None, freeze.biz_type) and project in (None, freeze.project)]

    def _any_freeze(self) -> list[str]:
        return [*self.freezes_by_no, self.platform.request_no()]

    @rule(data=st.data())
    def cancel(self, data):
        pre_request_no = self._pick(data, self._held(), "held") if self._held() and data.draw(
            st.booleans(), label="a held one?") else self._pick(data, self._any_freeze(), "freeze")
        model = self.freezes_by_no.get(pre_request_no)
        user = self._mostly(data, [model.user] if model else [], self.accounts, "user")
        exact = model and data.draw(st.booleans(), label="exact")
        amount = model.amount if exact else data.draw(st.integers(1, 3_000_000), label="amount")
        if model is None or model.user != user or model.state != "FROZEN":
            expected = NO_PRE
        else:
            expected = OK if amount == model.amount else DIFFER
        self._service(CANCEL, self.platform.cancel(pre_request_no, user, yuan(amount)), expected)
        if expected == OK:
            model.state = "CANCELLED"
            self.accounts[user].frozen -= amount
            self.accounts[user].available += amount
            if model.biz_type == "TENDER":
                self.projects_by_no[model.project].raising -= amount

    # --- loans and repayments ----------------------------------------------------------------------------
    def _raising_with_tenders(self) -> list[str]:
        return [number for number, model in self.projects_by_no.items()
                if model.status in RAISING and self._held("TENDER", number)]

    def _held_repayments(self) -> list[str]:
        return [number for number in self._held("REPAYMENT")
                if self.projects_by_no[self.freezes_by_no[number].project].lenders]

    @precondition(lambda self: self._raising_with_tenders())
    @rule(data=st.data())
    def confirm_held_tenders(self, data):
        project = self._pick(data, self._raising_with_tenders(), "project")
        held = self._held("TENDER", project)
        chosen = data.draw(st.lists(st.sampled_from(held), min_size=1, max_size=3, unique=True), label="tenders")
        self._loan(data, project, chosen)

    @rule(data=st.data())
    def confirm_any_freezes(self, data):
        project = self._pick(data, self.projects_by_no, "project")
        chosen = data.draw(st.lists(st.sampled_from(self._any_freeze()), min_size=1, max_size=3, unique=True),
                           label="freezes")
        self._loan(data, project, chosen)

    def _loan(self, data, project: str, chosen: list[str]) -> None:
        model = self.projects_by_no[project]
        details = []
        for number in chosen:
            freeze = self.freezes_by_no.get(number)
            off = data.draw(st.sampled_from([0, 0, 0, 0, 0, 1, -1]), label="amount off by")
            details.append((number, max(1, (freeze.amount if freeze else 100) + off)))
        expected = BAD if model.status not in RAISING else None
        for number, amount in details:
            freeze = self.freezes_by_no.get(number)
            if expected is None and (freeze is None or freeze.biz_type != "TENDER" or freeze.project != project
                                     or freeze.state != "FROZEN"):
                expected = NO_PRE
            elif expected is None and freeze.amount != amount:
                expected = DIFFER
        total = sum(amount for _, amount in details)
        commission = data.draw(st.one_of(st.integers(0, total // 10), st.integers(0, 2 * total + 100)),
                               label="commission")
        borrower = self.accounts[model.borrower]
        if expected is None:
            expected = OK if borrower.available + total >= commission else SHORT
        payload = self.platform.loan(project, yuan(commission), [(number, yuan(amount)) for number, amount in details])
        self._service(LOAN, payload, expected)
        if expected == OK:
            for number, amount in details:
                freeze = self.freezes_by_no[number]
                freeze.state = "USED"
                self.accounts[freeze.user].frozen -= amount
                if freeze.user not in model.lenders:
                    model.lenders.append(freeze.user)
            model.raising -= total
            model.loaned += total
            borrower.available += total - commission
            self.platform_gain += commission

    @precondition(lambda self: self._held_repayments())
    @rule(data=st.data())
    def confirm_held_repayment(self, data):
        pre_request_no = self._pick(data, self._held_repayments(), "repayment")
        project = self.freezes_by_no[pre_request_no].project
        self._repay(data, pre_request_no, project, self.projects_by_no[project].lenders)

    @rule(data=st.data())
    def confirm_any_repayment(self, data):
        self._repay(data, self._pick(data, self._any_freeze(), "freeze"),
                    self._pick(data, self.projects_by_no, "project"), self.accounts)

    def _repay(self, data, pre_request_no: str, project: str, funders) -> None:
        model, freeze = self.projects_by_no[project], self.freezes_by_no.get(pre_request_no)
        chosen = data.draw(st.lists(st.sampled_from(list(funders)), min_size=1, max_size=3, unique=True),
                           label="funders")
        due = freeze.amount if freeze else 300
        commission = data.draw(st.integers(0, max(0, due - len(chosen))), label="commission")
        shares = self._split(data, due - commission, len(chosen))
        details = [(user, amount, interest) for user, (amount, interest) in zip(chosen, shares)]
        if data.draw(st.integers(0, 6), label="amounts off") == 0:
            commission += 1
        if freeze is None or freeze.biz_type != "REPAYMENT" or freeze.project != project or freeze.state != "FROZEN":
            expected = NO_PRE
        elif any(user not in model.lenders for user, _, _ in details):
            expected = BAD
        elif sum(amount + interest for _, amount, interest in details) + commission != freeze.amount:
            expected = DIFFER
        else:
            expected = OK
        payload = self.platform.repayment(pre_request_no, project, yuan(commission),
                                          [(user, yuan(amount), yuan(interest)) for user, amount, interest in details])
        self._service(REPAY, payload, expected)
        if expected == OK:
            freeze.state = "USED"
            self.accounts[freeze.user].frozen -= freeze.amount
            for user, amount, interest in details:
                self.accounts[user].available += amount + interest
            self.platform_gain += commission

    @staticmethod
    def _split(data, total: int, parts: int) -> list[tuple[int, int]]:
        """``parts`` (amount >= 1, interest >= 0) pairs adding up to ``total`` (when total >= parts)."""
        if total < parts:
            return [(1, 0)] * parts
        cuts = sorted(data.draw(st.lists(st.integers(0, total - parts), min_size=parts - 1, max_size=parts - 1),
                                label="cuts"))
        sizes = [b - a + 1 for a, b in zip([0] + cuts, cuts + [total - parts])]
        pairs = []
        for size in sizes:
            interest = data.draw(st.integers(0, size - 1), label="interest")
            pairs.append((size - interest, interest))
        return pairs

    # --- repeats -----------------------------------------------------------------------------------------
    @rule(resign=st.booleans())
    def repeat_the_last_call(self, resign):
        if self.last is None:
            return
        service_name, payload, result = self.last
        again = {**payload, **request_times(expires_in=1200)} if resign else payload
        status, repeated = self.client.call(service_name, again)
        assert (status, repeated) == (200, result)

    # --- the books, after every step ---------------------------------------------------------------------
    @invariant()
    def books_balance(self):
        totals = self.client.totals()
        created = len(self.accounts)
        assert totals["total"] - self.baseline["total"] == created * self.card_fen
        balances = self.client.many_balances(self.accounts)
        for user, (available, frozen) in balances.items():
            assert available >= 0 and frozen >= 0
            model = self.accounts[user]
            assert (available, frozen) == (model.available, model.frozen), user
        platform_now = self.client.balances(PLATFORM_NO)[0]
        assert platform_now - self.baseline["platform"] == self.platform_gain
        assert totals["available"] - self.baseline["available"] == sum(a.available for a in self.accounts.values())
        assert totals["frozen"] - self.baseline["frozen"] == sum(a.frozen for a in self.accounts.values())
        assert totals["cards"] - self.baseline["cards"] == sum(a.card for a in self.accounts.values())
        # the statement lines of this run's requests add up to every balance change
        moved: dict[tuple[str, str], int] = {}
        for line in self.client.statement_lines(self.started):
            if line["requestNo"] in self.request_nos:
                for key, delta in line_effects(line).items():
                    moved[key] = moved.get(key, 0) + delta
        for user, (available, frozen) in balances.items():
            assert (moved.get((user, "available"), 0), moved.get((user, "frozen"), 0)) == (available, frozen), user
        assert moved.get((PLATFORM_NO, "available"), 0) == self.platform_gain
        card_moves = sum(delta for (user, part), delta in moved.items() if part == "card")
        assert totals["cards"] - self.baseline["cards"] - created * self.card_fen == card_moves
        assert not {user for user, _ in moved} - set(self.accounts) - {PLATFORM_NO}


def test_the_banks_books_balance_whatever_the_sequence(sandbox, settings):
    LendingBooks.client = sandbox
    LendingBooks.card_fen = settings["CARD_BALANCE_FEN"]
    run_state_machine_as_test(LendingBooks, settings=hypothesis_settings(
        max_examples=30, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]))
