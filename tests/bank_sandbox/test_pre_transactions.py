"""Freezes and their cancels (USER_AUTO_PRE_TRANSACTION, CANCEL_PRE_TRANSACTION) against the real sandbox
over HTTP: the right balances change to the fen, and every refusal moves nothing."""
from concurrent.futures import ThreadPoolExecutor

from tests.bank_sandbox.bank_client import PLATFORM_NO
from tests.bank_sandbox.conftest import fetch_one

FREEZE, CANCEL = "USER_AUTO_PRE_TRANSACTION", "CANCEL_PRE_TRANSACTION"


def _line(pool, request_no):
    return fetch_one(pool, "select * from bank_transactions where request_no = %s", request_no)


def test_a_tender_freezes_the_funders_money_and_a_cancel_gives_it_back_once(sandbox, platform, pool):
    borrower, lender = sandbox.open_user(), sandbox.open_user("500.00")
    project_no = sandbox.project(borrower, "1000.00")
    totals = sandbox.totals()
    tender = platform.freeze(lender, "300.01", "TENDER", project_no)
    assert sandbox.code(FREEZE, tender) == "00000"
    assert sandbox.balances(lender) == (19999, 30001)
    line = _line(pool, tender["requestNo"])
    assert (line["service_name"], line["user_no"], line["amount"], line["biz_type"], line["project_no"]) == \
        (FREEZE, lender, 30001, "TENDER", project_no)
    assert (line["bank_balance_after"], line["frozen_balance_after"]) == (19999, 30001)

    before = sandbox.snapshot([lender, borrower])
    for refused, code in ((platform.cancel(tender["requestNo"], lender, "300.00"), "30050"),  # not what it holds
                          (platform.cancel(tender["requestNo"], lender, "300.02"), "30050"),
                          (platform.cancel(tender["requestNo"], borrower, "300.01"), "30010"),  # another user's
                          (platform.cancel(platform.request_no(), lender, "300.01"), "30010")):  # no such freeze
        assert sandbox.code(CANCEL, refused) == code
        assert _line(pool, refused["requestNo"]) is None
    assert sandbox.snapshot([lender, borrower]) == before

    cancel = platform.cancel(tender["requestNo"], lender, "300.01")
    assert sandbox.code(CANCEL, cancel) == "00000"
    assert sandbox.balances(lender) == (50000, 0)
    assert _line(pool, cancel["requestNo"])["pre_request_no"] == tender["requestNo"]
    again = platform.cancel(tender["requestNo"], lender, "300.01")
    assert sandbox.code(CANCEL, again) == "30010"  # cancelled already: it holds nothing
    assert sandbox.balances(lender) == (50000, 0)
    assert sandbox.totals() == totals


def test_over_freezing_is_refused_and_moves_nothing(sandbox, platform, pool):
    borrower, lender = sandbox.open_user(), sandbox.open_user("100.00")
    project_no = sandbox.project(borrower, "5000.00")
    before = sandbox.snapshot([lender])
    too_much = platform.freeze(lender, "100.01", "TENDER", project_no)
    assert sandbox.code(FREEZE, too_much) == "30042"
    assert sandbox.snapshot([lender]) == before and _line(pool, too_much["requestNo"]) is None
    assert fetch_one(pool, "select count(*) from pre_transactions where request_no = %s",
                     too_much["requestNo"])["count"] == 0
    sandbox.freeze(lender, "100.00", "TENDER", project_no)
    assert sandbox.code(FREEZE, platform.freeze(lender, "0.01", "TENDER", project_no)) == "30042"
    assert sandbox.balances(lender) == (0, 10000)


def test_concurrent_freezes_never_take_more_than_the_available_balance(sandbox, platform):
    borrower, lender = sandbox.open_user(), sandbox.open_user("10.00")
    project_no = sandbox.project(borrower, "5000.00")
    calls = [platform.freeze(lender, "1.00", "TENDER", project_no) for _ in range(24)]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda payload: sandbox.code(FREEZE, payload), calls))
    assert sorted(codes) == ["00000"] * 10 + ["30042"] * 14
    assert sandbox.balances(lender) == (0, 1000)


def test_a_borrower_never_tenders_and_only_the_borrower_freezes_a_repayment(sandbox, platform):
    borrower, lender = sandbox.open_user("100.00"), sandbox.open_user("100.00")
    project_no = sandbox.project(borrower)
    before = sandbox.snapshot([borrower, lender])
    assert sandbox.code(FREEZE, platform.freeze(borrower, "1.00", "TENDER", project_no)) == "00003"
    assert sandbox.code(FREEZE, platform.freeze(lender, "1.00", "REPAYMENT", project_no)) == "00003"
    assert sandbox.snapshot([borrower, lender]) == before
    repayment = sandbox.freeze(borrower, "1.00", "REPAYMENT", project_no)
    assert sandbox.balances(borrower) == (9900, 100)
    assert sandbox.code(CANCEL, platform.cancel(repayment, borrower, "1.00")) == "00000"
    assert sandbox.balances(borrower) == (10000, 0)


def test_a_freeze_needs_a_project_created_before_and_a_depository_account(sandbox, platform):
    borrower, lender = sandbox.open_user(), sandbox.open_user("100.00")
    project_no = sandbox.project(borrower)
    before = sandbox.snapshot([lender])
    assert sandbox.code(FREEZE, platform.freeze(lender, "1.00", "TENDER", platform.project_no())) == "00003"
    assert sandbox.code(FREEZE, platform.freeze(platform.user_no(), "1.00", "TENDER", project_no)) == "00003"
    assert sandbox.snapshot([lender]) == before


def test_tenders_never_raise_more_than_the_project_amount(sandbox, platform):
    borrower, first, second = sandbox.open_user(), sandbox.open_user("1000.00"), sandbox.open_user("1000.00")
    project_no = sandbox.project(borrower, "1000.00")
    held = sandbox.freeze(first, "600.00", "TENDER", project_no)
    before = sandbox.snapshot([first, second])
    assert sandbox.code(FREEZE, platform.freeze(second, "400.01", "TENDER", project_no)) == "30050"
    assert sandbox.snapshot([first, second]) == before
    sandbox.freeze(second, "400.00", "TENDER", project_no)  # exactly the project's amount
    assert sandbox.code(CANCEL, platform.cancel(held, first, "600.00")) == "00000"
    sandbox.freeze(second, "600.00", "TENDER", project_no)  # the cancel made room again
    assert sandbox.balances(second) == (0, 100000)


def test_a_project_that_raises_no_money_takes_no_tender_but_its_freezes_can_be_cancelled(sandbox, platform):
    borrower, lender = sandbox.open_user(), sandbox.open_user("100.00")
    project_no = sandbox.project(borrower)
    held = sandbox.freeze(lender, "40.00", "TENDER", project_no)
    assert sandbox.code("MODIFY_PROJECT", platform.project_status(project_no, "MISCARRY")) == "00000"
    assert sandbox.code(FREEZE, platform.freeze(lender, "1.00", "TENDER", project_no)) == "00003"
    assert sandbox.code(CANCEL, platform.cancel(held, lender, "40.00")) == "00000"
    assert sandbox.balances(lender) == (10000, 0)
    assert sandbox.balances(PLATFORM_NO)[1] == 0


def test_every_freeze_refusal_names_its_reason_is_recorded_as_answered_and_moves_nothing(sandbox, platform, pool):
    """The freeze runs as one database function: each refusal's code and message, its record (status 2, the
    same result again for a repeat), and no balance, project or statement line changed."""
    borrower, lender, poor = sandbox.open_user("5.00"), sandbox.open_user("100.00"), sandbox.open_user("0.50")
    project_no = sandbox.project(borrower, "10.00")
    sandbox.freeze(lender, "9.99", "TENDER", project_no)  # leaves 0.01 to raise
    closed = sandbox.project(borrower)
    assert sandbox.code("MODIFY_PROJECT", platform.project_status(closed, "MISCARRY")) == "00000"
    unknown_project, stranger = platform.project_no(), platform.user_no()
    cases = [
        (platform.freeze(lender, "0.02", "TENDER", project_no), "30050",
         "the project's tenders would exceed its amount of 10.00 (lent 0.00, frozen 9.99)"),
        (platform.freeze(poor, "0.51", "REPAYMENT", project_no), "00003",
         f"userNo {poor} is not the borrower of project {project_no}"),
        (platform.freeze(borrower, "5.01", "REPAYMENT", project_no), "30042", "available balance insufficient for 5.01"),
        (platform.freeze(lender, "0.01", "TENDER", unknown_project), "00003",
         f"unknown projectNo {unknown_project}: create the project first"),
        (platform.freeze(borrower, "0.01", "TENDER", project_no), "00003",
         f"userNo {borrower} is the project's borrower: a borrower cannot tender"),
        (platform.freeze(lender, "0.01", "TENDER", closed), "00003", f"project {closed} is MISCARRY: it raises no money"),
        (platform.freeze(stranger, "0.01", "TENDER", project_no), "00003", f"userNo {stranger} has no depository account"),
    ]
    before = sandbox.snapshot([borrower, lender, poor])
    raising = fetch_one(pool, "select raising from projects where project_no = %s", project_no)["raising"]
    for payload, code, message in cases:
        for _ in range(2):  # the repeat answers the recorded result
            status, result = sandbox.call(FREEZE, payload)
            assert (status, result) == (200, {"requestNo": payload["requestNo"], "respCode": code,
                                              "respMsg": message, "status": 2})
        row = fetch_one(pool, "select status, resp_code, resp_msg from bank_requests where request_no = %s",
                        payload["requestNo"])
        assert (row["status"], row["resp_code"], row["resp_msg"]) == (2, code, message)
        assert _line(pool, payload["requestNo"]) is None
    assert sandbox.snapshot([borrower, lender, poor]) == before
    assert fetch_one(pool, "select raising from projects where project_no = %s", project_no)["raising"] == raising
    assert fetch_one(pool, "select count(*) from pre_transactions where user_no = any(%s)",
                     [borrower, poor])["count"] == 0
