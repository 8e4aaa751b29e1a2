"""The campaign's checks themselves: each one catches the loss or double it is there for."""
import pytest

from chaos.faults import spread
from chaos.verify import ADD, DEDUCT, REFUND, Verdict, _check_recharge, _check_unexplained_postings, _check_withdraw
from chaos.workload import fen_of

USER = "USR_" + "A" * 32


def _posting(amount: int, count: int = 1, eid: str = USER) -> dict:
    return {"count": count, "amount": amount, "eids": {eid}}


def _recharge(postings: dict, truth: int) -> Verdict:
    verdict = Verdict()
    _check_recharge(verdict, "REQ_1", {"amount": 1000, "user_no": USER}, truth, postings)
    return verdict


def _withdraw(postings: dict, truth: int) -> Verdict:
    verdict = Verdict()
    _check_withdraw(verdict, "REQ_2", {"amount": 1000, "commission": 50, "user_no": USER}, truth, {}, postings)
    return verdict


def test_a_recharge_credited_once_is_fine_missing_is_lost_twice_is_doubled():
    assert _recharge({("REQ_1", ADD): _posting(1000)}, truth=1).ok
    assert _recharge({}, truth=1).lost == ["REQ_1"]
    assert _recharge({("REQ_1", ADD): _posting(2000, count=2)}, truth=1).doubled == ["REQ_1"]
    assert _recharge({("REQ_1", ADD): _posting(1000)}, truth=2).doubled == ["REQ_1"]  # failed at the bank
    assert _recharge({}, truth=2).ok
    wrong_amount = _recharge({("REQ_1", ADD): _posting(999)}, truth=1)
    assert not wrong_amount.ok and wrong_amount.violations


def test_a_withdraw_hold_must_stand_when_paid_and_come_back_when_not():
    hold = {("REQ_2", DEDUCT): _posting(-1050)}
    assert _withdraw(hold, truth=1).ok
    assert _withdraw({**hold, ("REQ_2", REFUND): _posting(1050)}, truth=2).ok
    assert _withdraw(hold, truth=2).lost == ["REQ_2"]  # hold never released
    assert _withdraw({**hold, ("REQ_2", REFUND): _posting(1050)}, truth=1).doubled == ["REQ_2"]
    assert _withdraw({}, truth=1).doubled == ["REQ_2"]  # paid out by the bank, never debited


def test_a_posting_no_request_explains_is_doubled():
    verdict = Verdict()
    _check_unexplained_postings(verdict, {("REQ_9", ADD): _posting(5), ("ORD1", ADD): _posting(7),
                                          ("ORD1", DEDUCT): _posting(-7)},
                                center={}, orders={"ORD1": {}})
    assert sorted(verdict.doubled) == ["ORD1", "REQ_9"]


def test_faults_are_spread_over_the_traffic_and_amounts_read_exactly():
    assert spread(0, 0.1, 0.7) == [] and spread(1, 0.2, 0.4) == pytest.approx([0.3])
    assert spread(3, 0.1, 0.7) == pytest.approx([0.1, 0.4, 0.7])
    assert [fen_of(text) for text in ("0.00", "120.50", "-1.20", "7")] == [0, 12050, -120, 700]
