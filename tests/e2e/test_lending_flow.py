"""Lending end to end with every service a real process: the seven services of tests/support/stack.py, the
depository platform's workers and all of lending's, on databases of this module's own.

The funder is opened and funded through the platform's own flows (``python -m shared.funder``). An order
pushed through the partner sandbox is approved, confirmed before the borrower's account is opened (the
one-time link, user-center, the agent, the bank sandbox's confirmation) and after it, disbursed by the
bank's transaction services, repaid for one period with money the borrower recharged through the
platform, and settled early. A refused order gets its callback and blocks re-applying. Races with real
processes: loan/confirm repeated concurrently while two state-check jobs run create one borrow; repay
repeated concurrently freezes once. Every transaction answer lost after the bank moved the money: each
result learnt once through compensation. After each flow, for every user involved, the bank's available
balance equals the ledger's, nothing stays frozen, and the bank's totals moved only by the recharges.
"""
import hashlib
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import psycopg
import pytest

from tests.e2e.conftest import FAST as PLATFORM_FAST
from tests.e2e.conftest import set_faults
from tests.lending.conftest import FAST as LENDING_FAST
from tests.lending.conftest import id_number, new_person
from tests.support.infra import separate_infra
from tests.support.lending_platform import (AMOUNT, CARD_BALANCE, FEE, PLATFORM_NO, TERM, Platform, fen,
                                            start_lending_platform)
from tests.support.processes import Worker
from tests.support.stack import WORKERS
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def stack(infra, tmp_path_factory):
    """The whole platform on databases of its own (the platform's account moves only by these tests), with
    a funder holding ¥1,000,000.00 at the bank and in the ledger, and two depository-state-check jobs."""
    settings = {**PLATFORM_FAST, **{key: str(value) for key, value in LENDING_FAST.items()},
                # the agent asks the bank about a call it got no answer to after a second
                "COMPENSATION_AGE_SECONDS": "1", "COMPENSATION_INTERVAL_SECONDS": "1"}
    with separate_infra(infra) as own:
        running = start_lending_platform(own, tmp_path_factory.mktemp("lending-stack"), settings)
        yield running
        running.stop()


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


@pytest.fixture
def second_state_check(stack):
    """A second depository-state-check replica beside the stack's, stopped after the test."""
    package, module = WORKERS["depository_state_check"]
    replica = Worker(module, stack.env(package), stack.log_dir, name="depository_state_check-2").start()
    yield replica
    replica.stop()


def test_concurrent_confirmations_and_two_state_checks_create_one_borrow(platform, stack, second_state_check):
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


def test_answers_the_bank_lost_after_moving_the_money_are_learnt_once(platform, stack):
    """Every transaction answer is lost after the bank committed (the connection closed): the agent answers
    202, lending never guesses, and the results arrive by compensation; each movement happens and is
    mirrored exactly once."""
    order_no, _ = platform.approved_order()
    borrower = platform.open_through_link(platform.sim("POST", f"/sim/orders/{order_no}/confirm")["data"]
                                          ["openAccountUrl"])
    user_no = borrower.profile()["userNo"]
    borrower.recharge("500.00")
    before = platform.totals()
    set_faults(stack, serviceLoseAnswer="close")
    try:
        wait_for(lambda: platform.sim("POST", f"/sim/orders/{order_no}/confirm")["data"]["status"] == "ACCEPTED",
                 timeout=30, what="the borrow")
        wait_for(lambda: platform.view(order_no)["queries"]["loan/result"]["data"]["status"] == 7001, timeout=120,
                 what="disbursement learnt by compensation")
        one = platform.sim("POST", f"/sim/orders/{order_no}/repay", json={"periods": [1]})
        assert one["repay"]["data"]["status"] == "PROCESSING", one
        wait_for(lambda: platform.events(order_no).count("repay.result") == 1, timeout=120, what="period 1 repaid")
    finally:
        set_faults(stack)
    quiet(platform, [user_no, stack.funder, PLATFORM_NO], "ledger = bank after the lost answers")
    plan = platform.view(order_no)["queries"]["repay/plan"]["data"]["plans"]
    assert fen(platform.bank(user_no)["balance"]) == AMOUNT - FEE + 50_000 - plan[0]["total"]
    with platform.database() as conn:
        calls = conn.execute("select c.request_no, c.purpose, c.status from depository_calls c join borrows b"
                             " on b.id = c.borrow_id where b.order_no = %s", (order_no,)).fetchall()
    assert {call["status"] for call in calls} == {1}, calls
    assert sorted(call["purpose"] for call in calls if call["purpose"] in ("tender", "loan", "repay-freeze",
                                                                            "repay-confirm")) == [
        "loan", "repay-confirm", "repay-freeze", "tender"]
    with psycopg.connect(stack.infra.database_url("depository_agent"), autocommit=True) as conn:
        numbers = [call["request_no"] for call in calls]
        sources = dict(conn.execute("select request_no, result_source from depository_record"
                                    " where request_no = any(%s)", (numbers,)).fetchall())
    assert set(sources.values()) == {"QUERY"}, sources  # no answer reached anyone: each learnt from the bank's query
    after = platform.totals()
    inside = ("available", "frozen", "platform")
    assert after["frozen"] == 0 and sum(after[k] for k in inside) == sum(before[k] for k in inside)
