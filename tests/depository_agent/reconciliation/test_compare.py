"""The comparison rules of reconciliation, one request at a time (no I/O)."""
import pytest

from depository_agent.reconciliation import compare as c

REQ = "REQ_" + "A" * 32
USR = "USR_" + "B" * 32


def record(status: int, service: str = "RECHARGE", amount: int = 10000, commission: int | None = None) -> dict:
    return {"request_no": REQ, "service_name": service, "user_no": USR, "amount": amount,
            "commission": commission if service == "WITHDRAW" else None, "request_status": status}


def line(service: str = "RECHARGE", amount: int = 10000, commission: int = 0) -> dict:
    return {"requestNo": REQ, "serviceName": service, "userNo": USR, "amount": amount, "commission": commission}


def uc(status: int, service: str = "RECHARGE", amount: int = 10000, commission: int = 0) -> dict:
    return {"requestNo": REQ, "serviceName": service, "userNo": USR, "amount": amount, "commission": commission,
            "callbackStatus": status}


def posting(change_type: int, amount: int) -> dict:
    return {"trade_no": REQ, "change_type": change_type, "amount": amount}


def categories(item: c.Item) -> list[str]:
    return [finding.category for finding in c.compare(item)]


@pytest.mark.parametrize("item, expected", [
    # every view agrees
    (c.Item(REQ, line(), record(1), uc(1), [posting(1, 10000)]), []),
    (c.Item(REQ, None, record(2), uc(2), []), []),
    (c.Item(REQ, line("WITHDRAW", 5000, 100), record(1, "WITHDRAW", 5000, 100), uc(1, "WITHDRAW", 5000, 100),
            [posting(2, -5100)]), []),
    (c.Item(REQ, None, record(2, "WITHDRAW", 5000, 100), uc(2, "WITHDRAW", 5000, 100),
            [posting(2, -5100), posting(3, 5100)]), []),
    # the bank against the agent
    (c.Item(REQ, line(), None, uc(1), [posting(1, 10000)]), [c.MISSING_AT_PLATFORM]),
    (c.Item(REQ, line(amount=10001), record(1), uc(1), [posting(1, 10000)]), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, line("WITHDRAW", 5000, 0), record(1, "WITHDRAW", 5000, 100), uc(1, "WITHDRAW", 5000, 100),
            [posting(2, -5100)]), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, line(), record(0), uc(0)), [c.NOT_SETTLED]),
    (c.Item(REQ, None, record(0), uc(0), bank_status=2), [c.NOT_SETTLED]),
    (c.Item(REQ, None, record(0), uc(0), bank_status=0), [c.PENDING_AT_BANK]),
    (c.Item(REQ, None, record(0), uc(0), bank_status=c.BANK_UNKNOWN), [c.UNKNOWN_AT_BANK]),
    (c.Item(REQ, None, record(0), uc(0), bank_status=c.BANK_FAILED), [c.UNCHECKED]),
    (c.Item(REQ, None, record(1), uc(1), [posting(1, 10000)], bank_status=c.BANK_UNKNOWN), [c.MISSING_AT_BANK]),
    (c.Item(REQ, None, record(1), uc(1), [posting(1, 10000)], bank_status=2), [c.OPPOSITE_OUTCOME]),
    (c.Item(REQ, None, record(1), uc(1), [posting(1, 10000)], bank_status=1), [c.BOOKED_OTHER_DAY]),
    (c.Item(REQ, line(), record(2), uc(2)), [c.OPPOSITE_OUTCOME]),
    # the agent against user-center
    (c.Item(REQ, line(), record(1), None), [c.MISSING_AT_USER_CENTER]),
    (c.Item(REQ, line(), record(1), uc(0)), [c.NOT_APPLIED]),
    (c.Item(REQ, line(), record(1), uc(2)), [c.OPPOSITE_OUTCOME]),
    (c.Item(REQ, line(), record(1), uc(1, amount=9999), [posting(1, 10000)]), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, None, record(0), uc(1), bank_status=0), [c.PENDING_AT_BANK, c.OPPOSITE_OUTCOME]),
    (c.Item(REQ, None, None, uc(0)), [c.MISSING_AT_AGENT]),
    (c.Item(REQ, None, None, uc(2)), []),  # the agent refused it and user-center failed it: nothing happened
    # user-center against the ledger
    (c.Item(REQ, line(), record(1), uc(1), []), [c.LEDGER_MISSING]),
    (c.Item(REQ, line(), record(1), uc(1), [posting(1, 9000)]), [c.LEDGER_MISMATCH]),
    (c.Item(REQ, None, record(2), uc(2), [posting(1, 10000)]), [c.LEDGER_MISMATCH]),
    (c.Item(REQ, None, record(2, "WITHDRAW", 5000, 100), uc(2, "WITHDRAW", 5000, 100), [posting(2, -5100)]),
     [c.LEDGER_MISSING]),
    (c.Item(REQ, line("WITHDRAW", 5000, 100), record(1, "WITHDRAW", 5000, 100), uc(1, "WITHDRAW", 5000, 100),
            [posting(2, -5100), posting(3, 5100)]), [c.LEDGER_MISMATCH]),
])
def test_findings(item, expected):
    assert categories(item) == expected


def test_repairs_and_notes():
    assert {category for category, repair in c.REPAIRS.items()} == {c.NOT_SETTLED, c.NOT_APPLIED, c.LEDGER_MISSING}
    assert c.Finding(c.NOT_SETTLED, "").repair == c.SETTLE
    assert c.Finding(c.LEDGER_MISSING, "").repair == c.REPUBLISH
    assert c.Finding(c.AMOUNT_MISMATCH, "").repair is None and c.Finding(c.AMOUNT_MISMATCH, "").is_difference
    assert not c.Finding(c.PENDING_AT_BANK, "").is_difference


def test_only_unclear_requests_are_asked_at_the_bank():
    assert c.Item(REQ, None, record(0)).needs_bank_query()
    assert c.Item(REQ, None, record(1)).needs_bank_query()
    assert not c.Item(REQ, None, record(2)).needs_bank_query()
    assert not c.Item(REQ, line(), record(0)).needs_bank_query()
    assert not c.Item(REQ, line(), None).needs_bank_query()


def test_the_report_describes_each_view():
    item = c.Item(REQ, line("WITHDRAW", 5000, 100), record(0, "WITHDRAW", 5000, 100), uc(0, "WITHDRAW", 5000, 100),
                  [posting(2, -5100)], bank_status=1)
    assert c.describe(item) == {"bank": "statement 50.00+1.00; query: success", "agent": "pending 50.00+1.00",
                                "user_center": "pending 50.00+1.00", "ledger": "deduct -5100"}


def loan_record(status: int, amount: int = 100000, commission: int = 1000, user_no: str | None = None,
                service: str = "CONFIRM_LOAN") -> dict:
    return {"request_no": REQ, "service_name": service, "user_no": user_no, "amount": amount, "commission": commission,
            "request_status": status}


@pytest.mark.parametrize("item, expected", [
    # a loan's line names the borrower, its record no user; no user-center record nor posting is expected
    (c.Item(REQ, line("CONFIRM_LOAN", 100000, 1000), loan_record(1)), []),
    (c.Item(REQ, line("USER_AUTO_PRE_TRANSACTION", 5000), loan_record(1, 5000, None, USR, "USER_AUTO_PRE_TRANSACTION")),
     []),
    (c.Item(REQ, None, loan_record(2)), []),
    (c.Item(REQ, line("CONFIRM_LOAN", 100001, 1000), loan_record(1)), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, line("CONFIRM_LOAN", 100000, 0), loan_record(1)), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, line("CONFIRM_REPAYMENT", 100000, 1000), loan_record(1)), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, line("USER_AUTO_PRE_TRANSACTION", 5000),
            loan_record(1, 5000, None, "USR_" + "C" * 32, "USER_AUTO_PRE_TRANSACTION")), [c.AMOUNT_MISMATCH]),
    (c.Item(REQ, line("CONFIRM_LOAN", 100000, 1000), None), [c.MISSING_AT_PLATFORM]),
    (c.Item(REQ, line("CONFIRM_LOAN", 100000, 1000), loan_record(0)), [c.NOT_SETTLED]),
    (c.Item(REQ, line("CONFIRM_LOAN", 100000, 1000), loan_record(2)), [c.OPPOSITE_OUTCOME]),
    (c.Item(REQ, None, loan_record(1), bank_status=c.BANK_UNKNOWN), [c.MISSING_AT_BANK]),
    (c.Item(REQ, None, loan_record(0), bank_status=1), [c.NOT_SETTLED]),
    (c.Item(REQ, None, loan_record(0), bank_status=c.BANK_UNKNOWN), [c.UNKNOWN_AT_BANK]),
])
def test_a_transaction_services_line_is_matched_to_its_record(item, expected):
    assert categories(item) == expected
