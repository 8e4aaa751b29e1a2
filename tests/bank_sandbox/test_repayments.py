"""CONFIRM_REPAYMENT against the real sandbox over HTTP: the borrower's REPAYMENT freeze pays each funder
its amount + interest and the platform the commission, to the fen, once; a refusal moves nothing."""
from tests.bank_sandbox.bank_client import PLATFORM_NO
from tests.bank_sandbox.conftest import fetch_one

REPAY, LOAN, CANCEL = "CONFIRM_REPAYMENT", "CONFIRM_LOAN", "CANCEL_PRE_TRANSACTION"


def _lent(sandbox, platform):
    """A project of 1000.00 lent by two funders (600.00 and 400.00, commission 0), the borrower recharged
    with 200.00 more to repay with."""
    borrower, first, second = sandbox.open_user("200.00"), sandbox.open_user("600.00"), sandbox.open_user("400.00")
    project_no = sandbox.project(borrower, "1000.00")
    tenders = [(sandbox.freeze(first, "600.00", "TENDER", project_no), "600.00"),
               (sandbox.freeze(second, "400.00", "TENDER", project_no), "400.00")]
    assert sandbox.code(LOAN, platform.loan(project_no, "0.00", tenders)) == "00000"
    assert sandbox.code("MODIFY_PROJECT", platform.project_status(project_no, "REPAYING")) == "00000"
    return borrower, first, second, project_no, tenders[0][0]


def test_a_repayment_pays_each_funder_and_the_platform_to_the_fen(sandbox, platform, pool):
    borrower, first, second, project_no, _ = _lent(sandbox, platform)
    frozen = sandbox.freeze(borrower, "123.47", "REPAYMENT", project_no)
    assert sandbox.balances(borrower) == (120000 - 12347, 12347)
    platform_before, totals = sandbox.balances(PLATFORM_NO)[0], sandbox.totals()
    repayment = platform.repayment(frozen, project_no, "3.02", [(first, "60.00", "9.01"), (second, "40.00", "11.44")])
    assert sandbox.code(REPAY, repayment) == "00000"
    assert sandbox.many_balances([borrower, first, second]) == {
        borrower: (120000 - 12347, 0), first: (6901, 0), second: (5144, 0)}
    assert sandbox.balances(PLATFORM_NO)[0] - platform_before == 302
    assert sandbox.totals()["total"] == totals["total"]
    line = fetch_one(pool, "select * from bank_transactions where request_no = %s", repayment["requestNo"])
    assert (line["user_no"], line["amount"], line["commission"], line["pre_request_no"], line["project_no"]) == \
        (borrower, 12045, 302, frozen, project_no)
    assert sorted((d["userNo"], d["amount"], d["interest"]) for d in line["details"]) == \
        sorted([(first, "60.00", "9.01"), (second, "40.00", "11.44")])
    before = sandbox.snapshot([borrower, first, second])
    again = platform.repayment(frozen, project_no, "3.02", [(first, "60.00", "9.01"), (second, "40.00", "11.44")])
    assert sandbox.code(REPAY, again) == "30010"  # the freeze is used
    assert sandbox.code(CANCEL, platform.cancel(frozen, borrower, "123.47")) == "30010"
    assert sandbox.snapshot([borrower, first, second]) == before


def test_refused_repayments_move_nothing(sandbox, platform, pool):
    borrower, first, second, project_no, tender = _lent(sandbox, platform)
    frozen = sandbox.freeze(borrower, "110.00", "REPAYMENT", project_no)
    other_project = _lent(sandbox, platform)[3]
    stranger = sandbox.open_user()
    cases = [
        (platform.repayment(frozen, project_no, "10.00", [(first, "90.00", "10.01")]), "30050"),  # 110.01
        (platform.repayment(frozen, project_no, "9.99", [(first, "90.00", "10.00")]), "30050"),   # 109.99
        (platform.repayment(frozen, project_no, "0.00", [(first, "100.00", "10.00"), (second, "0.01", "0.00")]),
         "30050"),
        (platform.repayment(frozen, other_project, "10.00", [(first, "90.00", "10.00")]), "30010"),  # other project
        (platform.repayment(tender, project_no, "0.00", [(first, "600.00", "0.00")]), "30010"),  # a TENDER
        (platform.repayment(platform.request_no(), project_no, "10.00", [(first, "90.00", "10.00")]), "30010"),
        (platform.repayment(frozen, project_no, "10.00", [(stranger, "90.00", "10.00")]), "00003"),  # no funder
        (platform.repayment(frozen, project_no, "10.00", [(borrower, "90.00", "10.00")]), "00003"),
        (platform.repayment(frozen, platform.project_no(), "10.00", [(first, "90.00", "10.00")]), "00003"),
    ]
    before = sandbox.snapshot([borrower, first, second, stranger])
    for repayment, code in cases:
        assert sandbox.code(REPAY, repayment) == code, repayment
        assert fetch_one(pool, "select * from bank_transactions where request_no = %s", repayment["requestNo"]) is None
    assert sandbox.snapshot([borrower, first, second, stranger]) == before
    # interest "0.00" and commission "0.00" are amounts too
    assert sandbox.code(REPAY, platform.repayment(frozen, project_no, "0.00", [(first, "60.00", "0.00"),
                                                                               (second, "50.00", "0.00")])) == "00000"
    assert sandbox.many_balances([borrower, first, second]) == {borrower: (109000, 0), first: (6000, 0),
                                                                second: (5000, 0)}
