"""Races against a real lending process (4 gunicorn workers) and real job processes on the real database:
concurrent repeats of order/push, loan/confirm while depository-state-check runs, and repay."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.contract import PRE_TRANSACTION
from tests.lending.conftest import (PLATFORM_NO, Partner, agree, approve, as_env, borrow_of, borrow_with_open_account,
                                    disbursed_loan, new_order_no, new_person, review_pending)
from tests.support.processes import WebService
from tests.support.waiting import wait_for

THREADS = 16


@pytest.fixture(scope="module")
def lending_http(lending_infra, settings, secret, tmp_path_factory):
    """lending under gunicorn with 4 workers (one process for every race here), and a partner calling it
    over HTTP."""
    service = WebService("lending", lending_infra.service_env("lending", **as_env(settings)),
                         tmp_path_factory.mktemp("lending-http"), workers=4).start()
    yield Partner(secret, url=service.url)
    service.stop()


def at_once(count: int, call):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_concurrent_pushes_of_one_order_store_it_once(lending_http, db):
    order = {"orderNo": new_order_no(), "loanAmount": 1_000_000, "loanTerm": 6, **new_person()}
    envelope = lending_http.envelope(order)
    answers = at_once(THREADS, lambda: lending_http.raw("order/push", envelope))
    assert {status for status, _ in answers} == {200}
    assert {answer["data"]["orderNo"] for _, answer in answers} == {order["orderNo"]}
    assert db.execute("select count(*) as n from partner_orders where order_no = %s",
                      (order["orderNo"],)).fetchone()["n"] == 1


def test_concurrent_pushes_of_one_person_under_two_order_numbers_admit_one(lending_http, db):
    person = new_person()
    orders = [{"orderNo": new_order_no(), "loanAmount": 1_000_000, "loanTerm": 6, **person} for _ in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda order: lending_http("order/push", order), orders))
    assert sorted(status for status, _ in answers) == [200] + [409] * (THREADS - 1)
    assert db.execute("select count(*) as n from partner_orders where mobile = %s",
                      (person["mobile"],)).fetchone()["n"] == 1


def test_confirmations_racing_the_state_check_create_one_borrow(deps, partner, users, lending_http, procs, lending_env,
                                                               db):
    order_no, person = approve(deps, partner)
    partner.ok("card/bind", {"orderNo": order_no, "bankCode": "ICBC", "cardNumber": "6222020200155556666",
                             "mobile": person["mobile"]})
    assert partner.ok("loan/confirm", {"orderNo": order_no})["status"] == "OPEN_ACCOUNT"
    checkers = [procs.worker("lending.workers.depository_state_check", lending_env, name=f"state-check-{n}")
                for n in range(3)]
    users.open_account(users.user_no_of(person["mobile"]))
    answers = at_once(THREADS, lambda: lending_http("loan/confirm", {"orderNo": order_no}))
    assert {status for status, _ in answers} == {200}
    borrow_nos = {answer["data"]["borrowNo"] for _, answer in answers}
    wait_for(lambda: db.execute("select done_at from borrow_confirm_log where order_no = %s",
                                (order_no,)).fetchone()["done_at"], timeout=20, what="the confirmation log closed")
    assert all(checker.alive() for checker in checkers)
    assert db.execute("select count(*) as n from borrows where order_no = %s", (order_no,)).fetchone()["n"] == 1
    assert borrow_nos == {borrow_of(db, order_no)["borrow_no"]}
    assert db.execute("select count(*) as n from outbox where message_id = %s",
                      (f"audit.request:{borrow_of(db, order_no)['borrow_no']}",)).fetchone()["n"] == 1


def test_the_state_check_alone_creates_the_borrow_once_the_account_opens(deps, partner, users, procs, lending_env, db):
    order_no, person = approve(deps, partner)
    partner.ok("card/bind", {"orderNo": order_no, "bankCode": "ICBC", "cardNumber": "6222020200177778888",
                             "mobile": person["mobile"]})
    assert partner.ok("loan/confirm", {"orderNo": order_no})["status"] == "OPEN_ACCOUNT"
    for n in range(2):
        procs.worker("lending.workers.depository_state_check", lending_env, name=f"checker-{n}")
    users.open_account(users.user_no_of(person["mobile"]))
    wait_for(lambda: borrow_of(db, order_no), timeout=20, what="the borrow created by the job")
    assert partner.ok("loan/confirm", {"orderNo": order_no})["borrowNo"] == borrow_of(db, order_no)["borrow_no"]


def test_a_repay_repeated_concurrently_freezes_once(deps, partner, users, bank, lending_http, db):
    order_no, borrower = disbursed_loan(deps, partner, users, balance=100_000)
    project_no = borrow_of(db, order_no)["project_no"]
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})
    envelope = lending_http.envelope({"orderNo": order_no, "repayNo": "RP-RACE-" + order_no, "periods": [1],
                                      "amount": trial["amount"]})
    frozen_before = bank.balance(borrower).frozen
    answers = at_once(THREADS, lambda: lending_http.raw("repay", envelope))
    assert {status for status, _ in answers} == {200}
    assert {answer["data"]["status"] for _, answer in answers} <= {"PROCESSING", "SUCCESS"}
    freezes = {body["requestNo"] for body in bank.calls_of(PRE_TRANSACTION)
               if body["projectNo"] == project_no and body["bizType"] == "REPAYMENT"}
    assert len(freezes) == 1
    assert bank.balance(borrower).frozen == frozen_before + trial["amount"]
    assert db.execute("select count(*) as n from repayments where repay_no = %s",
                      ("RP-RACE-" + order_no,)).fetchone()["n"] == 1


def test_concurrent_repayments_under_different_numbers_take_one(deps, partner, users, bank, lending_http, db):
    order_no, borrower = disbursed_loan(deps, partner, users, balance=100_000)
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})
    numbers = [f"RP-{n}-{order_no}" for n in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda repay_no: lending_http("repay", {
            "orderNo": order_no, "repayNo": repay_no, "periods": [1], "amount": trial["amount"]}), numbers))
    assert sorted(status for status, _ in answers) == [200] + [409] * (THREADS - 1)
    assert bank.balance(borrower).frozen == trial["amount"]


def test_replicas_of_the_disbursement_workers_lend_each_borrow_once(deps, partner, users, bank, ledger, funder, db,
                                                                    procs, lending_env):
    borrows = [borrow_with_open_account(deps, partner, users) for _ in range(6)]
    review_pending(deps)
    for name in ("disburse", "loan_result", "ledger_mirror"):
        for n in (1, 2):
            procs.worker(f"lending.workers.{name}", lending_env, name=f"{name}-{n}")
    wait_for(lambda: all(borrow_of(db, order_no)["status"] == 30 for order_no, _ in borrows), timeout=60,
             what="every borrow disbursed")
    for order_no, borrower in borrows:
        done = db.execute("select purpose, count(*) as n from depository_calls where borrow_id = %s and status = 1"
                          " and purpose in ('tender', 'loan') group by purpose",
                          (borrow_of(db, order_no)["id"],)).fetchall()
        assert {row["purpose"]: row["n"] for row in done} == {"tender": 1, "loan": 1}
        assert bank.balance(borrower).available == 980_000
    wait_for(lambda: agree(bank, ledger, [funder, PLATFORM_NO, *(user for _, user in borrows)], db) == {},
             timeout=30, what="ledger = bank")
