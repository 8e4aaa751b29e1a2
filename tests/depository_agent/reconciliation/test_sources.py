"""Reconciliation reads the bank's statement, user-center's records and the ledger's postings strictly:
an answer that could be misread (a line twice, an amount in another format or type, a statement of
another day, a count that does not match, a record that was not asked for) makes the run incomplete
(exit 2) instead of being compared as something it may not mean."""
from datetime import date
from urllib.parse import urlsplit

import pytest

from depository_agent.config import load
from depository_agent.reconciliation.sources import BankStatements, LedgerPostings, SourceError, UserCenterRecords

from tests.support.json_server import JsonServer
from tests.support.processes import run_module

DAY = date(2026, 11, 22)
REQ = "REQ_" + "A" * 32
USR = "USR_" + "B" * 32


class FakeParty(JsonServer):
    """Answers GET requests by path with scripted JSON bodies (the bank, user-center and the ledger)."""

    def __init__(self):
        self.answers: dict[str, object] = {}
        super().__init__(self._answer)

    def _answer(self, method: str, path: str, body: bytes) -> tuple[int, object]:
        path = urlsplit(path).path
        return (200, self.answers[path]) if path in self.answers else (404, {"code": 908})


@pytest.fixture(scope="module")
def party():
    fake = FakeParty()
    yield fake
    fake.stop()


@pytest.fixture
def config(infra, party):
    party.answers.clear()
    return load(infra.config("depository_agent", BANK_SANDBOX_URL=party.url, USER_CENTER_URL=party.url,
                             LEDGER_URL=party.url))


def line(**changes) -> dict:
    return {"requestNo": REQ, "serviceName": "WITHDRAW", "userNo": USR, "amount": "40.00", "commission": "0.50",
            "status": 1, "time": "2026-11-22T10:00:00+08:00", **changes}


def statement(*lines, **changes) -> dict:
    return {"platformNo": "WANXINP2P", "date": DAY.isoformat(), "count": len(lines), "transactions": list(lines),
            **changes}


def test_a_genuine_statement_is_read_in_fen(config, party):
    party.answers["/statements"] = statement(line())
    assert BankStatements(config).fetch(DAY) == {REQ: {"requestNo": REQ, "serviceName": "WITHDRAW", "userNo": USR,
                                                        "amount": 4000, "commission": 50,
                                                        "time": "2026-11-22T10:00:00+08:00"}}


@pytest.mark.parametrize("answer", [
    statement(line(), line(amount="0.01")),                     # the same request booked twice
    statement(line(amount="40")), statement(line(amount="40.0")), statement(line(amount="040.00")),
    statement(line(amount=" 40.00")), statement(line(amount=40)), statement(line(amount=40.0)),
    statement(line(amount="0.00")), statement(line(commission=0)), statement(line(commission="0.5")),
    statement(line(status=True)), statement(line(status="1")), statement(line(status=2)),
    statement(line(serviceName="PERSONAL_REGISTER")), statement(line(requestNo="req_1")), statement(line(userNo=None)),
    statement(line(), date="2026-11-21"),                        # another day's statement
    statement(line(), platformNo="OTHERP2P"),
    statement(line(), count=2), statement(line(), count="1"),
    {"platformNo": "WANXINP2P", "date": DAY.isoformat(), "count": 0},  # no transactions at all
    statement("REQ_" + "A" * 32),
])
def test_a_statement_that_could_be_misread_is_unreadable(config, party, answer):
    party.answers["/statements"] = answer
    with pytest.raises(SourceError):
        BankStatements(config).fetch(DAY)


def record(**changes) -> dict:
    return {"requestNo": REQ, "serviceName": "WITHDRAW", "userNo": USR, "amount": 4000, "commission": 50,
            "callbackStatus": 1, **changes}


@pytest.mark.parametrize("answer", [
    {"code": 0, "result": {"total": 2, "records": [record(), record()]}},
    {"code": 0, "result": {"total": 1, "records": [record(requestNo="REQ_" + "C" * 32)]}},  # not asked for
    {"code": 0, "result": {"total": 1, "records": [record(amount="4000")]}},
    {"code": 0, "result": {"total": 1, "records": [record(amount=40.0)]}},
    {"code": 0, "result": {"total": 1, "records": [record(commission=True)]}},
    {"code": 0, "result": {"total": 1, "records": [record(callbackStatus=3)]}},
    {"code": 0, "result": {"total": 1}},
    {"code": 0, "result": None},
])
def test_user_center_records_that_could_be_misread_are_unreadable(config, party, answer):
    party.answers["/internal/records"] = answer
    with pytest.raises(SourceError):
        UserCenterRecords(config).by_request_nos([REQ])


def test_user_center_records_are_read_as_given(config, party):
    party.answers["/internal/records"] = {"code": 0, "result": {"total": 1, "records": [record()]}}
    assert UserCenterRecords(config).by_request_nos([REQ]) == {REQ: record()}


@pytest.mark.parametrize("answer", [
    {"count": 1, "data": [{"trade_no": REQ, "change_type": 2, "amount": "-4050"}]},
    {"count": 1, "data": [{"trade_no": REQ, "change_type": 4, "amount": -4050}]},
    {"count": 1, "data": [{"trade_no": 1, "change_type": 2, "amount": -4050}]},
    {"count": "1", "data": []},
    {"data": []},
])
def test_ledger_postings_that_could_be_misread_are_unreadable(config, party, answer):
    party.answers["/account/record/query"] = answer
    with pytest.raises(SourceError):
        LedgerPostings(config).for_account(USR, DAY)


def test_a_statement_listing_a_request_twice_makes_the_run_incomplete(infra, party, tmp_path):
    party.answers["/statements"] = statement(line(), line())
    env = infra.service_env("depository_agent", BANK_SANDBOX_URL=party.url, USER_CENTER_URL=party.url,
                            LEDGER_URL=party.url)
    done = run_module("depository_agent", "reconcile", "--date", DAY.isoformat(), "--csv", str(tmp_path / "out.csv"),
                      env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"lists {REQ} twice" in done.stderr
    assert not (tmp_path / "out.csv").exists()
