"""The campaign's checks themselves: each one catches the loss or double it is there for; and the
pieces the faults rely on (reading /proc, the options' limits, the ledger's deployed options)."""
import os
import random
from types import SimpleNamespace

import pytest

from chaos import proc
from chaos.campaign import _add_run_problems
from chaos.environment import deployed_gunicorn_options
from chaos.faults import spread
from chaos.options import GUNICORN_WORKER_TIMEOUT, parse
from chaos.loans import check_totals
from chaos.verify import (ADD, DEDUCT, REFUND, Verdict, _check_commission, _check_recharge, _check_unexplained_postings,
                          _check_wanxin, _check_withdraw)
from chaos.workload import RECHARGE, WITHDRAW, Journal, PlatformUser, StillFailing, fen_of

USER = "USR_" + "A" * 32
PLATFORM = "WANXINP2P"


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


def _commission(postings: dict, truth: int, commission: int = 50) -> Verdict:
    verdict = Verdict()
    _check_commission(verdict, "REQ_2", {"amount": 1000, "commission": commission, "user_no": USER}, truth, postings,
                      PLATFORM)
    return verdict


def test_a_paid_withdraw_credits_its_commission_to_the_platform_exactly_once():
    assert _commission({("REQ_2", ADD): _posting(50, eid=PLATFORM)}, truth=1).ok
    assert _commission({}, truth=1).lost == ["REQ_2"]  # the bank paid the platform, the ledger never booked it
    assert _commission({("REQ_2", ADD): _posting(100, count=2, eid=PLATFORM)}, truth=1).doubled == ["REQ_2"]
    for wrong in (_posting(49, eid=PLATFORM), _posting(50, eid=USER), _posting(50, eid="OTHERP2P")):
        verdict = _commission({("REQ_2", ADD): wrong}, truth=1)
        assert not verdict.ok and not verdict.lost and not verdict.doubled, wrong
        assert "expected 50 to WANXINP2P" in verdict.violations[0]


def test_a_failed_withdraw_or_one_without_commission_credits_none():
    credited = {("REQ_2", ADD): _posting(50, eid=PLATFORM)}
    assert _commission({}, truth=2).ok
    assert _commission(credited, truth=2).doubled == ["REQ_2"]  # failed (or expired) at the bank
    assert _commission({}, truth=1, commission=0).ok
    assert _commission(credited, truth=1, commission=0).doubled == ["REQ_2"]


def test_the_wanxin_check_covers_hold_and_commission_of_every_withdraw():
    record = {"kind": WITHDRAW, "user_no": USER, "amount": 1000, "commission": 50, "callback_status": 1}
    booked = {"service_name": "WITHDRAW", "amount": 1000, "commission": 50, "status": 1}
    remote = {"request_type": "WITHDRAW", "request_status": 1}
    hold = {("REQ_2", DEDUCT): _posting(-1050)}

    def check(postings: dict, platform_no: str = PLATFORM) -> Verdict:
        verdict = Verdict()
        _check_wanxin(verdict, {"REQ_2": record}, {"REQ_2": remote}, {"REQ_2": booked}, postings, platform_no)
        return verdict

    assert check({**hold, ("REQ_2", ADD): _posting(50, eid=PLATFORM)}).ok
    assert check(hold).lost == ["REQ_2"]
    assert check({**hold, ("REQ_2", ADD): _posting(100, count=2, eid=PLATFORM)}).doubled == ["REQ_2"]
    assert not check({**hold, ("REQ_2", ADD): _posting(50, eid=PLATFORM)}, platform_no="OTHERP2P").ok


def test_a_posting_no_request_explains_is_doubled():
    verdict = Verdict()
    _check_unexplained_postings(verdict, {("REQ_9", ADD): _posting(5), ("ORD1", ADD): _posting(7),
                                          ("ORD1", DEDUCT): _posting(-7), ("REQ_L", DEDUCT): _posting(-9)},
                                center={}, orders={"ORD1": {}}, lent={"REQ_L"})
    assert sorted(verdict.doubled) == ["ORD1", "REQ_9"]  # lending's posting is checked with the loans


def test_the_banks_money_only_moves():
    before = {"cards": 900, "available": 100, "frozen": 0, "platform": 0, "total": 1000}
    settled = {"cards": 1700, "available": 280, "frozen": 0, "platform": 20, "total": 2000}

    def check(after: dict, new_cards: int = 1) -> Verdict:
        verdict = Verdict()
        check_totals(verdict, before, after, new_cards, 1000)
        return verdict

    assert check(settled).ok
    assert not check(settled, new_cards=0).ok  # money from nowhere
    assert not check({**settled, "platform": 30}).ok  # parts that do not add up
    assert not check({**settled, "available": 270, "frozen": 10}).ok  # still frozen once settled


def test_faults_are_spread_over_the_traffic_and_amounts_read_exactly():
    assert spread(0, 0.1, 0.7) == [] and spread(1, 0.2, 0.4) == pytest.approx([0.3])
    assert spread(3, 0.1, 0.7) == pytest.approx([0.1, 0.4, 0.7])
    assert [fen_of(text) for text in ("0.00", "120.50", "-1.20", "7")] == [0, 12050, -120, 700]


def test_a_dead_lettered_result_fails_the_campaign():
    quiet = SimpleNamespace(errors=[])
    verdict = Verdict()
    _add_run_problems(verdict, quiet, quiet, settled=True, left={}, replays=0)
    assert verdict.ok
    _add_run_problems(verdict, quiet, quiet, settled=True, left={}, replays=2)
    assert not verdict.ok and "2 bank results dead-lettered" in verdict.violations[0]


def test_a_freeze_must_outlast_the_service_timeout_and_end_before_gunicorn_kills_the_worker():
    assert parse(["--freeze-seconds", "10", "--service-timeout", "5"]).freeze_seconds == 10
    for too_short_or_long in ("5", "4", str(GUNICORN_WORKER_TIMEOUT)):
        with pytest.raises(ValueError):
            parse(["--freeze-seconds", too_short_or_long, "--service-timeout", "5"])
    assert parse(["--ledger-freezes", "0", "--freeze-seconds", "1"]).ledger_freezes == 0


def test_the_campaign_runs_the_ledger_with_the_procfiles_gunicorn_options(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("user-center: gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8001 user_center.wsgi:app\n"
                        "beanpay-ledger: gunicorn -c deploy/gunicorn.conf.py --workers 2 --worker-class gthread"
                        " --threads 16 --reuse-port --bind 127.0.0.1:8004 beanpay_ledger.wsgi:app\n")
    assert deployed_gunicorn_options(procfile) == {
        "beanpay_ledger": ("--worker-class", "gthread", "--threads", "16", "--reuse-port")}
    assert "--worker-class" in deployed_gunicorn_options()["beanpay_ledger"]  # the real Procfile


def _fake_proc(root, processes: dict, rows: list[str]):
    """A /proc with ``processes`` ({pid: (ppid, state, [socket inodes])}) and /proc/net/tcp ``rows``."""
    for pid, (ppid, state, inodes) in processes.items():
        (root / str(pid) / "fd").mkdir(parents=True)
        (root / str(pid) / "stat").write_text(f"{pid} (gunicorn: worker [x) y]) {state} {ppid} 1 1 0\n")
        for number, inode in enumerate(inodes):
            os.symlink(f"socket:[{inode}]", root / str(pid) / "fd" / str(number))
        os.symlink("/dev/null", root / str(pid) / "fd" / "99")
    (root / "net").mkdir()
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    (root / "net" / "tcp").write_text(header + "".join(
        f"   0: 0100007F:{local:04X} 0100007F:{remote:04X} {state} 00000000:00000000 00:00000000 00000000"
        f"     0        0 {inode} 1\n" for local, remote, state, inode in rows))


def test_proc_finds_a_masters_workers_their_connections_and_who_is_at_the_other_end(tmp_path):
    port, caller_port, other_port = 8004, 40001, 40002
    rows = [(port, 0, proc.LISTEN, 10), (port, 0, proc.LISTEN, 11),           # one listening socket per worker
            (port, caller_port, proc.ESTABLISHED, 21),                         # worker 101 serves user-center
            (port, other_port, proc.CLOSE_WAIT, 22),                           # worker 102: its caller gave up
            (caller_port, port, proc.ESTABLISHED, 31),                         # user-center's end
            (port, 40003, proc.CLOSE_WAIT, 0), (port, 40004, "06", 0)]         # queued, gave up; TIME_WAIT
    _fake_proc(tmp_path, {100: (1, "S", []), 101: (100, "S", [10, 21]), 102: (100, "T", [11, 22]),
                          103: (100, "Z", []), 200: (1, "S", [31])}, rows)

    assert proc.children(100, tmp_path) == [101, 102]  # the zombie is no worker
    assert [c.inode for c in proc.held_connections(101, port, tmp_path)] == [21]
    assert [(c.inode, c.state) for c in proc.held_connections(102, port, tmp_path)] == [(22, proc.CLOSE_WAIT)]
    assert proc.caller_ports([200], port, tmp_path) == {caller_port}
    assert proc.caller_ports([101], port, tmp_path) == set()  # a server's own sockets are not calls
    assert [c.remote_port for c in proc.unaccepted_connections(port, tmp_path)] == [40003]


def test_a_withdraw_the_ledger_cannot_hold_is_put_off_behind_the_users_recharges():
    class LedgerAway:
        def call(self, *args, **kwargs):
            raise StillFailing("POST /my/withdraw-records: still failing (503 ledger unreachable)")

    journal = Journal()
    user = PlatformUser(LedgerAway(), {"user_center": "http://uc"}, journal, random.Random(1), commission=50,
                        abandon_rate=0, fail_rate=0, callback_url="https://platform.chaos.invalid/#/callback")
    user.available, user.operations = 10_000, [WITHDRAW, RECHARGE]
    assert user.run_next() is False
    assert user.operations == [RECHARGE, WITHDRAW] and journal.counts == {"withdraw_put_off_5xx": 1}
    assert journal.requests == [] and user.available == 10_000
