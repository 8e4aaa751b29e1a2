"""Races on one project against the real sandbox (gunicorn, over HTTP): tenders of many funders never raise
more than the project's amount, and a loan's confirmation racing the borrower's repayment freezes on the
same project answers every call (no deadlock), each movement once, to the fen."""
from concurrent.futures import ThreadPoolExecutor

FREEZE, LOAN = "USER_AUTO_PRE_TRANSACTION", "CONFIRM_LOAN"


def test_tenders_of_many_funders_racing_never_raise_more_than_the_project(sandbox, platform):
    borrower = sandbox.open_user()
    project_no = sandbox.project(borrower, "10.00")
    funders = [sandbox.open_user("5.00") for _ in range(16)]
    totals = sandbox.totals()
    calls = [platform.freeze(funder, "1.00", "TENDER", project_no) for funder in funders]
    with ThreadPoolExecutor(8) as threads:
        codes = list(threads.map(lambda payload: sandbox.code(FREEZE, payload), calls))
    assert sorted(codes) == ["00000"] * 10 + ["30050"] * 6
    held = sandbox.many_balances(funders)
    assert sum(frozen for _, frozen in held.values()) == 1000
    assert all((available, frozen) in ((400, 100), (500, 0)) for available, frozen in held.values())
    after = sandbox.totals()
    assert after["total"] == totals["total"] and after["frozen"] - totals["frozen"] == 1000


def test_a_loan_racing_the_borrowers_repayment_freezes_answers_every_call_once(sandbox, platform):
    for _ in range(4):
        borrower, funder = sandbox.open_user("100.00"), sandbox.open_user("500.00")
        project_no = sandbox.project(borrower, "1000.00")
        tenders = [sandbox.freeze(funder, "100.00", "TENDER", project_no) for _ in range(3)]
        totals = sandbox.totals()
        loan = platform.loan(project_no, "3.00", [(tender, "100.00") for tender in tenders])
        repayments = [platform.freeze(borrower, "1.00", "REPAYMENT", project_no) for _ in range(6)]
        with ThreadPoolExecutor(7) as threads:
            codes = list(threads.map(lambda call: sandbox.code(*call),
                                     [(LOAN, loan), *((FREEZE, payload) for payload in repayments)]))
        assert codes == ["00000"] * 7
        assert sandbox.many_balances([borrower, funder]) == {
            borrower: (10000 + 30000 - 300 - 600, 600), funder: (50000 - 30000, 0)}
        assert sandbox.totals()["total"] == totals["total"]
