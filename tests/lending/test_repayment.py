"""Repayments through the depository (stand-in agent and bank, real ledger): one period, early settlement,
an insufficient balance, forged amounts and periods, overdue penalties and the operator's waiver."""
import uuid

from fractions import Fraction

import pytest

from shared.contract import CONFIRM_REPAYMENT, RESP_AMOUNTS_DIFFER
from tests.lending.conftest import PLATFORM_NO, agree, borrow_of, disbursed_loan
from tests.support.processes import run_module

from lending import call_settlement, overdue, schedules
from lending.repository import borrows


def settle_repayments(deps) -> None:
    """What the repay-result consumer's sweep does: send the confirmations that frozen repayments await."""
    for _ in range(3):
        call_settlement.resend_due(deps, "repay")


def repay(partner, order_no: str, repay_no: str, periods) -> dict:
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": periods})
    return partner.ok("repay", {"orderNo": order_no, "repayNo": repay_no, "periods": periods,
                                "amount": trial["amount"]})


def callbacks(db, order_no: str, event: str) -> list[dict]:
    return [row["biz"] for row in db.execute("select biz from partner_callbacks where order_no = %s and event = %s"
                                             " order by id", (order_no, event)).fetchall()]


def shift_back(db, order_no: str, days: int) -> None:
    """Make the loan ``days`` days older (its plan's dates), as if time had passed."""
    db.execute("update plans set start_date = start_date - %s, due_date = due_date - %s where borrow_id ="
               " (select id from borrows where order_no = %s)", (days, days, order_no))


def test_one_period_repaid_pays_the_funder_and_the_ledger_mirrors_it(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = disbursed_loan(deps, partner, users, amount=1_200_000, term=12, balance=50_000)
    funder_before, total = bank.balance(funder).available, bank.total()
    plan = partner.ok("repay/plan", {"orderNo": order_no})["plans"]
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})
    assert trial == {"amount": plan[0]["total"], "principal": plan[0]["principal"], "interest": plan[0]["interest"],
                     "penalty": 0}
    answer = repay(partner, order_no, "RP-1-" + order_no, [1])
    assert answer == {"repayNo": "RP-1-" + order_no, "status": "PROCESSING"}
    settle_repayments(deps)
    assert partner.ok("repay/result", {"repayNo": "RP-1-" + order_no})["status"] == "SUCCESS"
    lines = partner.ok("repay/plan", {"orderNo": order_no})["plans"]
    assert lines[0]["status"] == 1 and lines[0]["paid"] == trial["amount"] and lines[1]["status"] == 0
    assert bank.balance(funder).available == funder_before + trial["amount"]
    assert bank.balance(borrower).frozen == 0 and bank.total() == total
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}
    [result] = callbacks(db, order_no, "repay.result")
    assert result["status"] == "SUCCESS" and result["plans"][0]["status"] == 1
    assert borrow_of(db, order_no)["status"] == borrows.DISBURSED


def test_the_ledger_takes_the_repayment_trade_number_of_the_spec(ledger):
    user_no = "USR_" + uuid.uuid4().hex.upper()  # its own wallet: the session's funder must keep ledger = bank
    ledger.create_account(user_no, "funder")
    trade_no = f"REQ_{'A' * 32}:{user_no}"
    assert len(trade_no) == 73
    assert ledger.add(user_no, trade_no, 1)["trade_no"] == trade_no


def test_settling_early_on_the_first_day_costs_no_interest_and_ends_the_loan(deps, partner, users, bank, ledger,
                                                                              funder, db):
    order_no, borrower = disbursed_loan(deps, partner, users, amount=500_000, term=6, balance=20_000)
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": "all"})
    assert trial == {"amount": 500_000, "principal": 500_000, "interest": 0, "penalty": 0}
    repay(partner, order_no, "RP-ALL-" + order_no, "all")
    settle_repayments(deps)
    borrow = borrow_of(db, order_no)
    assert borrow["status"] == borrows.REPAID
    assert all(line["status"] == 1 for line in partner.ok("repay/plan", {"orderNo": order_no})["plans"])
    assert bank.projects[borrow["project_no"]]["status"] == "CLEARED"
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}
    status, answer = partner("repay", {"orderNo": order_no, "repayNo": "RP-X-" + order_no, "periods": "all",
                                       "amount": 1})
    assert (status, answer["code"]) == (409, 1009)


def test_an_insufficient_balance_fails_at_once_and_freezes_nothing(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = disbursed_loan(deps, partner, users, amount=1_000_000, term=6)  # holds 980,000 after the fee
    answer = repay(partner, order_no, "RP-POOR-" + order_no, "all")
    assert answer["status"] == "FAILED" and "insufficient" in answer["reason"]
    assert bank.balance(borrower).frozen == 0 and bank.balance(borrower).available == 980_000
    assert partner.ok("repay/result", {"repayNo": "RP-POOR-" + order_no})["status"] == "FAILED"
    assert agree(bank, ledger, [borrower, funder], db) == {}
    assert callbacks(db, order_no, "repay.result")[0]["status"] == "FAILED"
    # a new repayment may follow at once
    assert repay(partner, order_no, "RP-ONE-" + order_no, [1])["status"] == "PROCESSING"


def test_a_refused_confirmation_releases_the_freeze(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = disbursed_loan(deps, partner, users, balance=30_000)
    bank.faults.refuse_next(CONFIRM_REPAYMENT, RESP_AMOUNTS_DIFFER, borrow_of(db, order_no)["project_no"])
    repay(partner, order_no, "RP-REF-" + order_no, [1])
    settle_repayments(deps)
    result = partner.ok("repay/result", {"repayNo": "RP-REF-" + order_no})
    assert result["status"] == "FAILED" and "released" in result["reason"]
    assert bank.balance(borrower).frozen == 0
    settle_repayments(deps)
    assert agree(bank, ledger, [borrower, funder], db) == {}


@pytest.mark.parametrize("change, code", [
    ({"amount": "trial - 1"}, 1009), ({"amount": "trial + 1"}, 1009), ({"periods": [2]}, 1009),
    ({"periods": [1, 1]}, 1001), ({"periods": [0]}, 1001), ({"periods": "some"}, 1001), ({"amount": 0}, 1001),
    ({"amount": "1"}, 1001), ({"amount": 1.0}, 1001), ({"amount": True}, 1001),
])
def test_forged_amounts_and_periods_are_refused_and_store_nothing(deps, partner, users, db, change, code):
    order_no, _ = disbursed_loan(deps, partner, users, balance=10_000)
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})["amount"]
    biz = {"orderNo": order_no, "repayNo": "RP-F-" + order_no, "periods": [1], "amount": trial, **change}
    if isinstance(biz["amount"], str) and biz["amount"].startswith("trial"):
        biz["amount"] = trial + (1 if "+" in biz["amount"] else -1)
    status, answer = partner("repay", biz)
    assert answer["code"] == code and status == {1001: 400, 1009: 409}[code]
    assert db.execute("select count(*) as n from repayments where repay_no = %s",
                      (biz["repayNo"],)).fetchone()["n"] == 0


def test_a_repay_no_is_one_repayment(deps, partner, users, db):
    order_no, _ = disbursed_loan(deps, partner, users, balance=10_000)
    other_order, _ = disbursed_loan(deps, partner, users, balance=10_000)
    first = repay(partner, order_no, "RP-ONCE-" + order_no, [1])
    assert repay(partner, order_no, "RP-ONCE-" + order_no, [1]) == first
    trial = partner.ok("repay/trial", {"orderNo": other_order, "periods": [1]})["amount"]
    status, answer = partner("repay", {"orderNo": other_order, "repayNo": "RP-ONCE-" + order_no, "periods": [1],
                                       "amount": trial})
    assert (status, answer["code"]) == (409, 1009)  # another order's repayNo
    status, answer = partner("repay", {"orderNo": order_no, "repayNo": "RP-TWO-" + order_no, "periods": [1, 2],
                                       "amount": 1})
    assert (status, answer["code"]) == (409, 1009)  # one repayment at a time
    assert (partner("repay/result", {"repayNo": "nope"})[0]) == 404


def test_overdue_periods_carry_a_penalty_paid_to_the_platform(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = disbursed_loan(deps, partner, users, amount=600_000, term=3, balance=40_000)
    shift_back(db, order_no, 40)  # period 1 fell due about 9-12 days ago
    today = schedules.today(deps.config)
    due = db.execute("select due_date, principal from plans p join borrows b on b.id = p.borrow_id"
                     " where b.order_no = %s and period = 1", (order_no,)).fetchone()
    days = (today - due["due_date"]).days
    assert days > deps.config["GRACE_DAYS"]
    overdue.mark_overdue(deps)
    overdue.mark_overdue(deps)
    [notice] = callbacks(db, order_no, "repay.overdue")
    expected = (due["principal"] * deps.config["PENALTY_RATE_FRACTION"] * days + Fraction(1, 2)) // 1
    line = partner.ok("repay/plan", {"orderNo": order_no})["plans"][0]
    assert line["status"] == 2 and line["overdueDays"] == days and line["penalty"] > 0
    assert notice["penalty"] == line["penalty"] and notice["period"] == 1
    platform_before = bank.balance(PLATFORM_NO).available
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})
    assert trial["penalty"] == line["penalty"] == expected
    repay(partner, order_no, "RP-LATE-" + order_no, [1])
    settle_repayments(deps)
    assert bank.balance(PLATFORM_NO).available == platform_before + trial["penalty"]
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}


def test_an_operator_waives_the_penalty_and_the_loan_ends_as_41(deps, partner, users, bank, ledger, funder, db,
                                                                lending_env):
    order_no, borrower = disbursed_loan(deps, partner, users, amount=300_000, term=3, balance=40_000)
    shift_back(db, order_no, 45)
    overdue.mark_overdue(deps)
    assert partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})["penalty"] > 0
    waived = run_module("lending", "penalties", "waive", order_no, env=lending_env)
    assert waived.returncode == 0, waived.stdout + waived.stderr
    assert partner.ok("repay/trial", {"orderNo": order_no, "periods": "all"})["penalty"] == 0
    repay(partner, order_no, "RP-W-" + order_no, "all")
    settle_repayments(deps)
    assert borrow_of(db, order_no)["status"] == borrows.REPAID_WAIVED
    assert partner.ok("loan/result", {"orderNo": order_no})["status"] == 7001
    again = run_module("lending", "penalties", "waive", order_no, env=lending_env)
    assert again.returncode == 1 and "not repaying" in again.stdout


def test_early_settlement_after_some_days_charges_interest_up_to_today_only(deps, partner, users, db):
    order_no, _ = disbursed_loan(deps, partner, users, amount=1_000_000, term=6, balance=50_000)
    shift_back(db, order_no, 10)
    plan = db.execute("select * from plans p join borrows b on b.id = p.borrow_id where b.order_no = %s"
                      " order by period", (order_no,)).fetchall()
    elapsed = (schedules.today(deps.config) - plan[0]["start_date"]).days
    length = (plan[0]["due_date"] - plan[0]["start_date"]).days
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": "all"})
    assert trial["principal"] == 1_000_000
    assert trial["interest"] == (plan[0]["interest"] * elapsed * 2 + length) // (2 * length)
    assert trial["interest"] < plan[0]["interest"]
    assert elapsed == 10
