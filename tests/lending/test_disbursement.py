"""Disbursement through the depository (stand-in agent and bank, real ledger): the freeze, the loan, the
ledger mirror, failures retried, results that arrive late or only as messages, the operator's refusal.
After each, every depository user's ledger balance equals the bank's available balance."""
import pytest

from shared.contract import CONFIRM_LOAN, PRE_TRANSACTION, RESP_AMOUNTS_DIFFER, RESP_INSUFFICIENT
from tests.lending.conftest import (PLATFORM_NO, agree, borrow_of, borrow_with_open_account, disburse,
                                    disbursed_loan, review_pending)
from tests.support.waiting import wait_for

from lending import call_settlement, disbursement, ledger_mirror
from lending.repository import borrows


def callbacks_of(db, order_no: str) -> list[dict]:
    return db.execute("select event, biz from partner_callbacks where order_no = %s order by id",
                      (order_no,)).fetchall()


def test_a_disbursed_loan_moves_the_money_and_the_ledger_mirrors_it(deps, partner, users, bank, ledger, funder, db):
    total = bank.total()
    funder_before, platform_before = bank.balance(funder).available, bank.balance(PLATFORM_NO).available
    order_no, borrower = disbursed_loan(deps, partner, users, amount=1_000_000, term=6)
    borrow = borrow_of(db, order_no)
    assert borrow["status"] == borrows.DISBURSED and borrow["service_fee"] == 20_000
    assert bank.balance(borrower).available == 980_000
    assert bank.balance(funder).available == funder_before - 1_000_000
    assert bank.balance(PLATFORM_NO).available == platform_before + 20_000
    assert bank.total() == total
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}
    plans = db.execute("select * from plans where borrow_id = %s order by period", (borrow["id"],)).fetchall()
    assert len(plans) == 6 and sum(plan["principal"] for plan in plans) == 1_000_000
    assert plans[0]["start_date"] == borrow["disbursed_on"]
    succeeded = [cb for cb in callbacks_of(db, order_no) if cb["event"] == "loan.succeeded"]
    assert len(succeeded) == 1 and succeeded[0]["biz"]["actualAmount"] == 980_000
    assert [line["principal"] for line in succeeded[0]["biz"]["plans"]] == [plan["principal"] for plan in plans]
    assert partner.ok("loan/result", {"orderNo": order_no})["status"] == 7001
    project = db.execute("select body from depository_calls where borrow_id = %s and purpose = 'project'",
                         (borrow["id"],)).fetchone()["body"]
    assert project["userNo"] == borrower and project["projectAmount"] == "10000.00" and project["annualRate"] == "0.18"
    assert bank.projects[borrow["project_no"]]["status"] == "REPAYING"


def test_a_failed_freeze_is_retried_until_the_loan_goes_out(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = borrow_with_open_account(deps, partner, users)
    bank.faults.refuse_next(PRE_TRANSACTION, RESP_INSUFFICIENT, borrow_of(db, order_no)["project_no"])
    disburse(deps)
    borrow = borrow_of(db, order_no)
    assert borrow["status"] == borrows.DISBURSE_FAILED and RESP_INSUFFICIENT in borrow["last_error"]
    assert partner.ok("loan/result", {"orderNo": order_no})["status"] == 7002
    wait_for(lambda: call_settlement.send_all(deps, disbursement.start_due(deps)) or
             borrow_of(db, order_no)["status"] == borrows.DISBURSED, timeout=20, what="the retried disbursement")
    assert borrow_of(db, order_no)["disburse_attempts"] == 2
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}


def test_a_refused_loan_cancels_its_freeze_and_the_ledger_gives_it_back(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = borrow_with_open_account(deps, partner, users)
    funder_before = bank.balance(funder).available
    bank.faults.refuse_next(CONFIRM_LOAN, RESP_AMOUNTS_DIFFER, borrow_of(db, order_no)["project_no"])
    disburse(deps)
    borrow = borrow_of(db, order_no)
    assert borrow["status"] == borrows.DISBURSE_FAILED
    cancels = db.execute("select * from depository_calls where borrow_id = %s and purpose = 'tender-cancel'",
                         (borrow["id"],)).fetchall()
    assert len(cancels) == 1 and cancels[0]["status"] == 1
    assert bank.balance(funder).available == funder_before and bank.balance(funder).frozen == 0
    ledger_mirror.post_due(deps)
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}


def test_results_known_only_from_messages_settle_once(deps, partner, users, bank, ledger, funder, db, procs,
                                                      lending_env):
    """The agent answers 202 (the bank's answer is late); the results arrive on depository.gateway-notify
    and the loan-result consumers settle them (two replicas; resends held off, so only messages can)."""
    env = {**lending_env, "CALL_RESEND_SECONDS": "600"}
    consumers = [procs.worker("lending.workers.loan_result", env, name=f"loan-result-{n}") for n in (1, 2)]
    order_no, borrower = borrow_with_open_account(deps, partner, users)
    bank.faults.pending = {PRE_TRANSACTION, CONFIRM_LOAN}
    review_pending(deps)
    call_settlement.send_all(deps, disbursement.start_due(deps))
    db.execute("update depository_calls set next_send_at = now() + interval '10 minutes' where status = 0")
    assert borrow_of(db, order_no)["status"] == borrows.DISBURSING
    wait_for(lambda: borrow_of(db, order_no)["status"] == borrows.DISBURSED, timeout=30,
             what="disbursed from the messages alone")
    assert all(worker.alive() for worker in consumers)
    wait_for(lambda: agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}, timeout=15, what="ledger mirror")
    assert len(bank.calls_of(CONFIRM_LOAN)) >= 1
    succeeded = [cb for cb in callbacks_of(db, order_no) if cb["event"] == "loan.succeeded"]
    assert len(succeeded) == 1


def test_a_call_whose_answer_never_came_is_sent_again_never_guessed(deps, partner, users, bank, ledger, funder, db):
    """The bank moved the money but the answer timed out: the freeze stays pending until a resend learns
    the result (the agent answers the same requestNo the same way)."""
    order_no, borrower = borrow_with_open_account(deps, partner, users)
    review_pending(deps)
    bank.faults.hang = {PRE_TRANSACTION}
    bank.faults.hang_seconds = 3
    frozen_before = bank.balance(funder).frozen
    call_settlement.send_all(deps, disbursement.start_due(deps))
    tender_no = borrow_of(db, order_no)["current_tender"]
    tender = db.execute("select * from depository_calls where request_no = %s", (tender_no,)).fetchone()
    assert tender["status"] == 0 and "no answer" in tender["last_error"]
    assert bank.balance(funder).frozen >= frozen_before + 1_000_000  # it did land
    bank.reset_faults()
    wait_for(lambda: call_settlement.resend_due(deps, "loan") >= 0
             and borrow_of(db, order_no)["status"] == borrows.DISBURSED, timeout=20, what="the resend learning it")
    assert [body["requestNo"] for body in bank.calls_of(PRE_TRANSACTION)].count(tender_no) >= 2
    wait_for(lambda: call_settlement.resend_due(deps, "loan") >= 0 and bank.balance(funder).frozen == 0, timeout=20,
             what="every other borrow's disbursement settled too")
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}


def test_the_operator_refuses_a_borrow_that_cannot_be_disbursed(deps, partner, users, bank, ledger, funder, db):
    order_no, borrower = borrow_with_open_account(deps, partner, users)
    bank.faults.refuse_next(CONFIRM_LOAN, RESP_AMOUNTS_DIFFER, borrow_of(db, order_no)["project_no"])
    disburse(deps)
    borrow = borrow_of(db, order_no)
    assert borrow["status"] == borrows.DISBURSE_FAILED
    call_settlement.send_all(deps, disbursement.reject(deps, borrow["borrow_no"], "cannot be disbursed"))
    borrow = borrow_of(db, order_no)
    assert borrow["status"] == borrows.REFUSED
    assert partner.ok("loan/result", {"orderNo": order_no}) == {"status": 7003, "reason": "cannot be disbursed"}
    rejected = [cb for cb in callbacks_of(db, order_no) if cb["event"] == "loan.rejected"]
    assert len(rejected) == 1 and rejected[0]["biz"]["status"] == 7003
    assert bank.balance(funder).frozen == 0 and bank.projects[borrow["project_no"]]["status"] == "MISCARRY"
    ledger_mirror.post_due(deps)
    assert agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}
    with pytest.raises(Exception, match="status 27"):
        disbursement.reject(deps, borrow["borrow_no"], "again")
