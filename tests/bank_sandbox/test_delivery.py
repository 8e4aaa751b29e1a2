"""The notifier: retries with back-off until the exact acknowledgement, logs each attempt, shares the queue,
and holds no transaction while a notification is on the wire."""
import signal
import threading
import time

import pytest

from bank_sandbox.delivery import backoff, run_once
from bank_sandbox.repository import deliveries
from tests.bank_sandbox.conftest import fetch_all, fetch_one


def _confirm_recharge(client, platform, user_no, amount="3.00"):
    payload = platform.recharge(user_no, amount)
    assert client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", payload)).json["status"] == 1
    return payload["requestNo"]


def drain(pool, settings, until, timeout=5.0):
    """Run notifier passes until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the notifier did not get there in time"
        if not run_once(pool, settings):
            time.sleep(0.02)


def delivered(pool, request_no) -> bool:
    return fetch_one(pool, "select delivered from deliveries where reference = %s", request_no)["delivered"]


def test_retries_with_backoff_until_the_answer_is_exactly_ok(client, pool, settings, platform, receiver, opened_user):
    run_once(pool, settings)  # the account opening's own notification
    receiver.reset()
    receiver.script = [(500, "OK"), (200, "ok"), (200, "OK\n"), (200, "SUCCESS")]
    request_no = _confirm_recharge(client, platform, opened_user)
    drain(pool, settings, lambda: delivered(pool, request_no))
    ours = receiver.calls
    assert len(ours) == 5 and {call.path for call in ours} == {"/gateway"}
    assert ours[0].query["serviceName"] == "RECHARGE" and ours[0].form == {}
    note = platform.read_notification(ours[-1].query)
    assert note["requestNo"] == request_no and note["status"] == 1 and note["amount"] == "3.00"
    gaps = [later.at - earlier.at for earlier, later in zip(ours, ours[1:])]
    for attempt, gap in enumerate(gaps, start=1):
        assert gap >= backoff(settings, attempt).total_seconds() * 0.9, (attempt, gaps)
    attempts = fetch_all(pool, "select a.attempt, a.kind, a.http_status, a.answer, a.accepted from delivery_attempts a"
                               " join deliveries d on d.id = a.delivery_id where d.reference = %s order by a.id",
                         request_no)
    assert [(a["attempt"], a["http_status"], a["answer"], a["accepted"]) for a in attempts] == [
        (1, 500, "OK", False), (2, 200, "ok", False), (3, 200, "OK\n", False), (4, 200, "SUCCESS", False),
        (5, 200, "OK", True)]
    row = fetch_one(pool, "select attempts, last_answer from deliveries where reference = %s", request_no)
    assert row == {"attempts": 5, "last_answer": "OK"}


def test_backoff_doubles_up_to_the_cap():
    config = {"NOTIFIER_BACKOFF_BASE_SECONDS": "1", "NOTIFIER_BACKOFF_MAX_SECONDS": "60"}
    assert [backoff(config, n).total_seconds() for n in (1, 2, 3, 6, 7, 50)] == [1, 2, 4, 32, 60, 60]


def test_an_unreachable_receiver_is_retried_later(client, pool, settings, platform, opened_user):
    # a back-off longer than the pass, which on a busy machine could otherwise retry the failure within itself
    unreachable = {**settings, "DEPOSITORY_AGENT_URL": "http://127.0.0.1:9", "NOTIFIER_BACKOFF_BASE_SECONDS": "1"}
    request_no = _confirm_recharge(client, platform, opened_user)
    run_once(pool, unreachable)
    row = fetch_one(pool, "select delivered, attempts, last_error from deliveries where reference = %s", request_no)
    assert row["delivered"] is False and row["attempts"] == 1 and "ConnectionError" in row["last_error"]
    drain(pool, settings, lambda: delivered(pool, request_no))


def test_two_notifiers_share_the_queue_without_double_sends(client, pool, settings, platform, receiver, opened_user):
    request_nos = {_confirm_recharge(client, platform, opened_user, "1.00") for _ in range(8)}
    threads = [threading.Thread(target=run_once, args=(pool, settings)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = [platform.read_notification(call.query)["requestNo"] for call in receiver.calls
            if call.query.get("serviceName") == "RECHARGE"]
    assert sorted(sent) == sorted(request_nos)


def test_no_transaction_is_open_while_a_notification_is_on_the_wire(client, pool, settings, platform, receiver,
                                                                   opened_user):
    """While the agent holds the notification, its delivery row is locked by no one and no connection of
    the bank waits in a transaction: a slow agent blocks nothing on the bank's database."""
    run_once(pool, settings)
    receiver.reset()
    request_no = _confirm_recharge(client, platform, opened_user)
    seen = []

    def inspect(call):
        with pool.connection() as conn:
            row = conn.execute("select reference from deliveries where reference = %s for update nowait",
                               (request_no,)).fetchone()
            waiting = conn.execute("select count(*) as n from pg_stat_activity where datname = current_database()"
                                   " and state like 'idle in transaction%%' and pid <> pg_backend_pid()").fetchone()
            seen.append((row["reference"], waiting["n"]))

    receiver.during = inspect
    drain(pool, settings, lambda: delivered(pool, request_no))
    assert seen == [(request_no, 0)]


def test_a_notifier_that_dies_mid_send_leaves_the_delivery_due_once_its_lease_ends(client, pool, settings, platform,
                                                                                    receiver, opened_user):
    run_once(pool, settings)
    receiver.reset()
    leased = {**settings, "NOTIFIER_TIMEOUT_SECONDS": "1"}  # a lease of 3 s
    request_no = _confirm_recharge(client, platform, opened_user)

    class Killed:
        """A session whose process is killed while the notification is out."""

        def post(self, *args, **kwargs):
            raise SystemExit("killed mid-send")

    with pytest.raises(SystemExit):
        run_once(pool, leased, Killed())
    died = time.monotonic()
    assert run_once(pool, leased) == 0 and receiver.calls == []  # leased: no other notifier takes it meanwhile
    drain(pool, leased, lambda: delivered(pool, request_no), timeout=15)
    assert len(receiver.calls) == 1 and receiver.calls[0].at - died >= 2.5
    attempts = fetch_all(pool, "select a.attempt, a.kind, a.accepted from delivery_attempts a join deliveries d"
                               " on d.id = a.delivery_id where d.reference = %s", request_no)
    assert attempts == [{"attempt": 1, "kind": "send", "accepted": True}]


def test_a_send_that_outlived_its_lease_changes_the_delivery_only_if_accepted(client, pool, settings, platform,
                                                                             receiver, opened_user):
    run_once(pool, settings)
    receiver.reset()
    request_no = _confirm_recharge(client, platform, opened_user)
    # the delivery as a first notifier claimed it
    late = fetch_one(pool, "select * from deliveries where reference = %s", request_no)
    receiver.script = [(503, "busy")]
    run_once(pool, settings)  # a second notifier, once the first one's lease ran out: one failed attempt
    recorded = fetch_one(pool, "select attempts, next_attempt_at, last_status from deliveries where reference = %s",
                         request_no)
    assert recorded["attempts"] == 1 and recorded["last_status"] == 503
    with pool.connection() as conn:
        deliveries.mark_failed(conn, late, {"status": 500, "answer": "late"}, backoff(settings, 1), dropped=False)
    assert fetch_one(pool, "select attempts, next_attempt_at, last_status from deliveries where reference = %s",
                     request_no) == recorded
    with pool.connection() as conn:
        deliveries.mark_delivered(conn, late["id"], {"status": 200, "answer": "OK"})
    assert delivered(pool, request_no)


def test_the_worker_process_delivers_and_stops_cleanly_on_sigterm(infra, procs, receiver, client, pool, platform,
                                                                  opened_user):
    env = infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=receiver.url, BANK_CALLBACK_URL=receiver.url,
                            NOTIFIER_POLL_SECONDS="0.05", NOTIFIER_BACKOFF_BASE_SECONDS="0.05")
    worker = procs.worker("bank_sandbox.workers.notifier", env)
    request_no = _confirm_recharge(client, platform, opened_user)
    deadline = time.monotonic() + 10
    while not delivered(pool, request_no):
        assert time.monotonic() < deadline, worker.log_tail()
        time.sleep(0.05)
    worker.signal(signal.SIGTERM)
    assert worker.popen.wait(5) == 0


def test_operator_commands_list_and_redeliver(client, pool, settings, platform, receiver, opened_user, infra,
                                              monkeypatch, capsys):
    from bank_sandbox.__main__ import main

    receiver.script = [(500, "down")] * 2
    run_once(pool, settings)
    monkeypatch.setenv("DATABASE_URL", infra.database_url("bank_sandbox"))
    monkeypatch.setenv("KEYS_DIR", infra.keys_dir)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert main(["pending"]) == 0
    listing = capsys.readouterr().out
    assert "depository-agent/gateway" in listing and "attempts=1" in listing and "1 undelivered" in listing
    with pool.connection() as conn:
        conn.execute("update deliveries set next_attempt_at = now() + interval '1 hour'")
    assert run_once(pool, settings) == 0
    assert main(["redeliver"]) == 0 and "1 notification(s) due now" in capsys.readouterr().out
    assert run_once(pool, settings) == 1 and len(receiver.calls) == 2
