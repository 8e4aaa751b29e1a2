"""CONFIRM_LOAN against the real sandbox over HTTP: each tender moves once, to the fen, to the borrower,
the commission to the platform, and a refused confirmation moves nothing at all."""
from tests.bank_sandbox.bank_client import PLATFORM_NO
from tests.bank_sandbox.conftest import fetch_one

LOAN, CANCEL = "CONFIRM_LOAN", "CANCEL_PRE_TRANSACTION"


def _funded_project(sandbox, amount="1000.00"):
    borrower, first, second = sandbox.open_user(), sandbox.open_user("700.00"), sandbox.open_user("700.00")
    return borrower, first, second, sandbox.project(borrower, amount)


def test_a_loan_moves_each_tender_to_the_borrower_and_the_commission_to_the_platform(sandbox, platform, pool):
    borrower, first, second, project_no = _funded_project(sandbox)
    tenders = [sandbox.freeze(first, "600.37", "TENDER", project_no),
               sandbox.freeze(second, "399.63", "TENDER", project_no)]
    platform_before, totals = sandbox.balances(PLATFORM_NO)[0], sandbox.totals()
    loan = platform.loan(project_no, "20.01", [(tenders[0], "600.37"), (tenders[1], "399.63")])
    assert sandbox.code(LOAN, loan) == "00000"
    assert sandbox.many_balances([borrower, first, second]) == {
        borrower: (100000 - 2001, 0), first: (70000 - 60037, 0), second: (70000 - 39963, 0)}
    assert sandbox.balances(PLATFORM_NO)[0] - platform_before == 2001
    assert sandbox.totals()["total"] == totals["total"]
    line = fetch_one(pool, "select * from bank_transactions where request_no = %s", loan["requestNo"])
    assert (line["user_no"], line["amount"], line["commission"], line["project_no"]) == \
        (borrower, 100000, 2001, project_no)
    assert sorted((detail["preRequestNo"], detail["userNo"], detail["amount"]) for detail in line["details"]) == \
        sorted([(tenders[0], first, "600.37"), (tenders[1], second, "399.63")])
    used = fetch_one(pool, "select count(*) from pre_transactions where request_no = any(%s) and state = 'USED'"
                           " and remaining = 0 and settled_by = %s", tenders, loan["requestNo"])
    assert used["count"] == 2


def test_a_tender_is_used_once(sandbox, platform):
    borrower, first, _, project_no = _funded_project(sandbox)
    tender = sandbox.freeze(first, "100.00", "TENDER", project_no)
    assert sandbox.code(LOAN, platform.loan(project_no, "0.00", [(tender, "100.00")])) == "00000"
    before = sandbox.snapshot([borrower, first])
    assert sandbox.code(LOAN, platform.loan(project_no, "0.00", [(tender, "100.00")])) == "30010"
    assert sandbox.code(CANCEL, platform.cancel(tender, first, "100.00")) == "30010"
    assert sandbox.snapshot([borrower, first]) == before
    assert before["users"][borrower] == (10000, 0)  # a commission of "0.00" pays the platform nothing


def test_a_refused_loan_moves_nothing_even_when_its_other_tenders_are_good(sandbox, platform, pool):
    borrower, first, second, project_no = _funded_project(sandbox)
    good = sandbox.freeze(first, "100.00", "TENDER", project_no)
    other_project = sandbox.project(sandbox.open_user())
    elsewhere = sandbox.freeze(second, "50.00", "TENDER", other_project)
    cancelled = sandbox.freeze(second, "30.00", "TENDER", project_no)
    assert sandbox.code(CANCEL, platform.cancel(cancelled, second, "30.00")) == "00000"
    cases = [
        ([(good, "100.00"), (elsewhere, "50.00")], "30010"),        # a tender of another project
        ([(good, "100.00"), (platform.request_no(), "1.00")], "30010"),  # no such freeze
        ([(good, "100.00"), (cancelled, "30.00")], "30010"),        # cancelled
        ([(good, "99.99")], "30050"),                                # not the tender's amount
        ([(good, "100.01")], "30050"),
    ]
    before = sandbox.snapshot([borrower, first, second])
    for details, code in cases:
        loan = platform.loan(project_no, "1.00", details)
        assert sandbox.code(LOAN, loan) == code, details
        assert fetch_one(pool, "select * from bank_transactions where request_no = %s", loan["requestNo"]) is None
    assert sandbox.code(LOAN, platform.loan(platform.project_no(), "1.00", [(good, "100.00")])) == "00003"
    assert sandbox.snapshot([borrower, first, second]) == before
    assert fetch_one(pool, "select state, remaining from pre_transactions where request_no = %s", good) == \
        {"state": "FROZEN", "remaining": 10000}
    assert sandbox.code(LOAN, platform.loan(project_no, "1.00", [(good, "100.00")])) == "00000"


def test_a_repayment_freeze_is_no_tender(sandbox, platform):
    borrower, first, _, project_no = _funded_project(sandbox)
    tender = sandbox.freeze(first, "100.00", "TENDER", project_no)
    assert sandbox.code(LOAN, platform.loan(project_no, "0.00", [(tender, "100.00")])) == "00000"
    repayment = sandbox.freeze(borrower, "10.00", "REPAYMENT", project_no)
    before = sandbox.snapshot([borrower, first])
    assert sandbox.code(LOAN, platform.loan(project_no, "0.00", [(repayment, "10.00")])) == "30010"
    assert sandbox.snapshot([borrower, first]) == before


def test_a_commission_the_borrower_cannot_pay_is_refused_and_moves_nothing(sandbox, platform):
    borrower, first, _, project_no = _funded_project(sandbox)
    tender = sandbox.freeze(first, "100.00", "TENDER", project_no)
    before = sandbox.snapshot([borrower, first])
    assert sandbox.code(LOAN, platform.loan(project_no, "100.01", [(tender, "100.00")])) == "30042"
    assert sandbox.snapshot([borrower, first]) == before
    assert sandbox.code(LOAN, platform.loan(project_no, "100.00", [(tender, "100.00")])) == "00000"
    assert sandbox.balances(borrower) == (0, 0)


def test_a_project_that_raises_no_money_lends_none(sandbox, platform):
    borrower, first, _, project_no = _funded_project(sandbox)
    tender = sandbox.freeze(first, "100.00", "TENDER", project_no)
    assert sandbox.code("MODIFY_PROJECT", platform.project_status(project_no, "MISCARRY")) == "00000"
    assert sandbox.code(LOAN, platform.loan(project_no, "0.00", [(tender, "100.00")])) == "00003"
    assert sandbox.balances(first) == (60000, 10000)
