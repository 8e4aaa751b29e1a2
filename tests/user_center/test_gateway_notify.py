"""The GatewayNotifyConsumer as a real process on the run's RabbitMQ vhost and PostgreSQL."""
import random
import subprocess
import time
import uuid

import pytest

from shared.messaging import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_QUEUE
from tests.support.processes import run_module
from tests.user_center.conftest import CALLBACK, COMMISSION, notification, open_form, request_no_of, wait_for
from tests.user_center.freezing import frozen, gunicorn_workers
from tests.user_center.standins import LedgerStandIn

WORKER = "user_center.workers.gateway_notify"
PLATFORM = "WANXINP2P"


def status(db, table: str, request_no: str) -> int:
    return db.execute(f"select callback_status from {table} where request_no = %s", (request_no,)).fetchone()[
        "callback_status"]


def depository_status(db, user_no: str) -> str:
    return db.execute("select depository_status from consumer where user_no = %s", (user_no,)).fetchone()[
        "depository_status"]


def commissions(ledger, *request_nos: str) -> list[str]:
    """Which of ``request_nos`` credited a commission to the platform's wallet (each trade number once)."""
    credited = ledger.trade_nos(PLATFORM, 1)
    assert len(credited) == len(set(credited))
    return [number for number in request_nos if number in credited]


def anomalies(db, *request_nos: str) -> list[dict]:
    return db.execute("select request_no, reason, occurrences from gateway_notify_anomaly where request_no = any(%s)"
                      " order by id", (list(request_nos),)).fetchall()


@pytest.fixture
def worker_env(infra, ledger, agent):
    def env(ledger_url: str = ledger.url, **extra) -> dict:
        return infra.service_env("user_center", **{
            "LEDGER_URL": ledger_url, "DEPOSITORY_AGENT_URL": agent.url, "WITHDRAW_COMMISSION": COMMISSION,
            "RETRY_BASE_MS": 50, "RETRY_MAX_MS": 200, **extra})

    return env


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run_module("user_center", *args, env=env, timeout=30)


def test_each_result_is_applied_once_whatever_the_repeats_and_order(procs, worker_env, publisher, make_user, db,
                                                                   ledger):
    worker = procs.worker(WORKER, worker_env())
    user = make_user()
    register_no = request_no_of(user.post("/my/consumers", open_form()).json["result"])
    for _ in range(5):
        publisher.publish(notification("PERSONAL_REGISTER", register_no))
    wait_for(lambda: depository_status(db, user.user_no) == "OPENED", what="account opened")
    assert user.get("/my/consumers").json["result"]["bankCard"]["cardNumber"] == "6222***********1234"

    first = request_no_of(user.post("/my/recharge-records", {"amount": "300.00", "callbackUrl": CALLBACK})
                          .json["result"])
    for _ in range(5):
        publisher.publish(notification("RECHARGE", first, True, "300.00"))
    wait_for(lambda: status(db, "recharge_record", first) == 1, what="first recharge")

    second = request_no_of(user.post("/my/recharge-records", {"amount": "20.00", "callbackUrl": CALLBACK})
                           .json["result"])
    kept = request_no_of(user.post("/my/withdraw-records", {"amount": "100.00", "callbackUrl": CALLBACK})
                         .json["result"])
    refused = request_no_of(user.post("/my/withdraw-records", {"amount": "50.00", "callbackUrl": CALLBACK})
                            .json["result"])
    assert ledger.balance(user.user_no) == 30000 - 10100 - 5100
    messages = ([notification("RECHARGE", second, True, "20.00")] * 5 + [notification("WITHDRAW", kept, True, "100.00")]
                * 5 + [notification("WITHDRAW", refused, False, "50.00")] * 5)
    random.Random(7).shuffle(messages)
    for message in messages:
        publisher.publish(message)
    wait_for(lambda: (status(db, "recharge_record", second), status(db, "withdraw_record", kept),
                      status(db, "withdraw_record", refused)) == (1, 1, 2), what="all three settled")
    time.sleep(0.5)  # let any straggler duplicates through: they must change nothing
    assert ledger.balance(user.user_no) == 30000 + 2000 - 10100
    assert sorted(ledger.trade_nos(user.user_no, 1)) == sorted([first, second])
    assert ledger.trade_nos(user.user_no, 3) == [refused]
    assert commissions(ledger, kept, refused) == [kept]  # the paid withdraw's commission, once
    assert anomalies(db, register_no, first, second, kept, refused) == []

    # the opposite outcome for a final record is an anomaly: recorded once per distinct message, never applied
    opposite = [notification("RECHARGE", second, False, "20.00"), notification("WITHDRAW", refused, True, "50.00"),
                notification("PERSONAL_REGISTER", register_no, False)]
    for message in opposite * 2:
        publisher.publish(message)
    wait_for(lambda: sum(a["occurrences"] for a in anomalies(db, second, refused, register_no)) == 6,
             what="anomalies recorded")
    rows = anomalies(db, second, refused, register_no)
    assert [row["request_no"] for row in rows] == [second, refused, register_no]
    assert all("conflicting" in row["reason"] for row in rows)
    assert (status(db, "recharge_record", second), status(db, "withdraw_record", refused)) == (1, 2)
    assert depository_status(db, user.user_no) == "OPENED"
    assert ledger.balance(user.user_no) == 30000 + 2000 - 10100
    assert commissions(ledger, kept, refused) == [kept]
    wait_for(lambda: '"alert": "gateway-notify-anomaly"' in worker.log_path.read_text(), what="the anomaly alert")

    # a result for a request user-center does not have can never apply: parked in the DLQ at once
    unknown = "REQ_" + "0" * 32
    publisher.publish(notification("RECHARGE", unknown, True, "1.00"))
    wait_for(lambda: publisher.ready(GATEWAY_NOTIFY_DLQ) == 1, what="the unknown request dead-lettered")
    assert anomalies(db, unknown) == []
    assert "can never apply" in worker.log_path.read_text()
    publisher.channel.queue_purge(GATEWAY_NOTIFY_DLQ)

    worker.stop()
    assert worker.popen.returncode == 0, worker.log_tail()  # SIGTERM: a clean exit
    assert publisher.ready(GATEWAY_NOTIFY_QUEUE) == 0  # everything was acked (unacked would be back to ready)


@pytest.fixture
def slow_ledger(infra):
    """A stand-in ledger, so a test can stop the worker between the ledger's posting and its answer."""
    standin = LedgerStandIn(infra.internal_token).start()
    yield standin
    standin.stop()


def test_a_crash_after_the_ledger_call_is_repaired_by_the_redelivery(procs, worker_env, publisher, opened_user, db,
                                                                     slow_ledger):
    ledger = slow_ledger
    user = opened_user()
    request_no = request_no_of(user.post("/my/recharge-records", {"amount": "42.00", "callbackUrl": CALLBACK})
                               .json["result"])
    ledger.add_delay = 5
    worker = procs.worker(WORKER, worker_env(ledger.url), name="crashing-worker")
    publisher.publish(notification("RECHARGE", request_no, True, "42.00"))
    assert ledger.add_applied.wait(15), worker.log_tail()
    worker.kill()  # the ledger has the posting; user-center has not committed
    ledger.add_delay = 0
    assert status(db, "recharge_record", request_no) == 0
    procs.worker(WORKER, worker_env(ledger.url), name="restarted-worker")
    wait_for(lambda: status(db, "recharge_record", request_no) == 1, what="redelivery applied")
    assert ledger.accounts[user.user_no] == 4200
    assert [p["trade_no"] for p in ledger.postings(user.user_no, 1)] == [request_no]


def recharges(user, *amounts: str) -> list[str]:
    return [request_no_of(user.post("/my/recharge-records", {"amount": amount, "callbackUrl": CALLBACK})
                          .json["result"]) for amount in amounts]


def test_a_ledger_refusing_connections_delays_results_but_never_dead_letters_them(procs, worker_env, publisher,
                                                                                   opened_user, db, infra, ledger):
    ledger_env = infra.service_env("beanpay_ledger")
    flaky = procs.web("beanpay_ledger", ledger_env)  # a second ledger process (same database) to take down
    worker = procs.worker(WORKER, worker_env(flaky.url))  # retries every 50-200 ms: many attempts during the outage
    user = opened_user()
    numbers = recharges(user, "10.00", "20.00", "30.00")
    flaky.kill()
    for number, amount in zip(numbers, ("10.00", "20.00", "30.00")):
        publisher.publish(notification("RECHARGE", number, True, amount))
    wait_for(lambda: worker.log_path.read_text().count("failed (Unavailable") >= 10, what="retries meanwhile")
    time.sleep(3)
    assert publisher.ready(GATEWAY_NOTIFY_DLQ) == 0 and [status(db, "recharge_record", no) for no in numbers] == [0] * 3
    procs.web("beanpay_ledger", ledger_env, port=flaky.port)
    wait_for(lambda: [status(db, "recharge_record", no) for no in numbers] == [1] * 3, what="applied after the outage")
    assert ledger.balance(user.user_no) == 6000 and sorted(ledger.trade_nos(user.user_no, 1)) == sorted(numbers)
    assert publisher.ready(GATEWAY_NOTIFY_DLQ) == 0 and "dead-lettered" not in worker.log_path.read_text()


def test_a_frozen_ledger_times_out_and_each_result_is_applied_once_it_answers(procs, worker_env, publisher,
                                                                             opened_user, make_user, db, infra, ledger):
    stalled = procs.web("beanpay_ledger", infra.service_env("beanpay_ledger"))
    worker = procs.worker(WORKER, worker_env(stalled.url, SERVICE_TIMEOUT_SECONDS=1))
    user, opener = opened_user(), make_user()
    numbers = recharges(user, "1.00", "2.00")
    register_no = request_no_of(opener.post("/my/consumers", open_form()).json["result"])
    workers = gunicorn_workers(stalled)
    assert len(workers) == 2
    with frozen(workers):  # the ledger accepts connections but answers nothing: every call times out
        for number, amount in zip(numbers, ("1.00", "2.00")):
            publisher.publish(notification("RECHARGE", number, True, amount))
        publisher.publish(notification("PERSONAL_REGISTER", register_no))
        wait_for(lambda: worker.log_path.read_text().count("ReadTimeoutError") >= 5, what="calls timing out")
    # thawed: the postings they took while frozen land now, late, and the retries find them applied
    wait_for(lambda: [status(db, "recharge_record", no) for no in numbers] == [1, 1]
             and depository_status(db, opener.user_no) == "OPENED", what="applied once the ledger answers")
    assert ledger.balance(user.user_no) == 300 and sorted(ledger.trade_nos(user.user_no, 1)) == sorted(numbers)
    assert ledger.balance(opener.user_no) == 0
    assert publisher.ready(GATEWAY_NOTIFY_DLQ) == 0


def test_after_the_retry_window_a_message_is_dead_lettered_and_replay_applies_it(procs, worker_env, publisher,
                                                                                opened_user, db, infra, ledger):
    ledger_env = infra.service_env("beanpay_ledger")
    flaky = procs.web("beanpay_ledger", ledger_env)
    env = worker_env(flaky.url, NOTIFY_RETRY_HOURS="0.0005")  # 1.8 s
    worker = procs.worker(WORKER, env)
    user = opened_user()
    first, second = recharges(user, "10.00", "20.00")
    flaky.kill()
    publisher.publish(notification("RECHARGE", first, True, "10.00"))
    publisher.publish(notification("RECHARGE", second, True, "20.00"))
    publisher.publish(b"{not json")
    wait_for(lambda: publisher.ready(GATEWAY_NOTIFY_DLQ) == 3, what="three messages dead-lettered")
    assert (status(db, "recharge_record", first), status(db, "recharge_record", second)) == (0, 0)
    alert = '"alert": "gateway-notify-dead-lettered"'
    log = wait_for(lambda: (text := worker.log_path.read_text()) and text.count(alert) == 3 and text,
                   what="the dead-letter alerts")
    assert "attempt 2 failed" in log and "failed for 0.0 hours" in log and "can never apply" in log

    listed = run_cli(env, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"RECHARGE:{first}\tattempts=" in listed.stdout and "malformed" in listed.stdout
    assert "3 message(s)" in listed.stdout
    assert publisher.ready(GATEWAY_NOTIFY_DLQ) == 3  # listing leaves them parked

    procs.web("beanpay_ledger", ledger_env, port=flaky.port)
    try:
        one = run_cli(env, "dlq", "replay", f"RECHARGE:{first}")
        assert one.returncode == 0 and "replayed 1 message(s)" in one.stdout, one.stderr
        wait_for(lambda: status(db, "recharge_record", first) == 1, what="replayed message applied")
        assert ledger.balance(user.user_no) == 1000 and status(db, "recharge_record", second) == 0
        assert run_cli(env, "dlq", "replay", "RECHARGE:REQ_NOPE").returncode == 1

        everything = run_cli(env, "dlq", "replay", "--all")
        assert "replayed 2 message(s)" in everything.stdout
        wait_for(lambda: status(db, "recharge_record", second) == 1, what="second replay applied")
        # the malformed message cannot be applied: it is parked again at once
        wait_for(lambda: publisher.ready(GATEWAY_NOTIFY_DLQ) == 1, what="malformed message parked again")
        assert ledger.balance(user.user_no) == 3000
    finally:
        run_cli(env, "dlq", "replay", "--all")
        publisher.channel.queue_purge(GATEWAY_NOTIFY_DLQ)


def test_worker_reconnects_when_the_broker_drops_its_connection(procs, worker_env, publisher, opened_user, db, infra):
    worker = procs.worker(WORKER, worker_env())
    wait_for(lambda: publisher.consumers(GATEWAY_NOTIFY_QUEUE) == 1, what="worker consuming")
    for pid in _worker_connections(infra):
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test: broker restart"], check=True,
                       capture_output=True, timeout=30)
    user = opened_user()
    request_no = request_no_of(user.post("/my/recharge-records", {"amount": "5.00", "callbackUrl": CALLBACK})
                               .json["result"])
    publisher.publish(notification("RECHARGE", request_no, True, "5.00"))
    wait_for(lambda: status(db, "recharge_record", request_no) == 1, timeout=20, what="applied after reconnect")
    wait_for(lambda: "reconnecting" in worker.log_path.read_text(), what="the reconnect log line")


def _worker_connections(infra) -> list[str]:
    """The broker-side pids of the worker's connections."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_connections", "--no-table-headers", "-p", infra.vhost, "pid",
                          "client_properties"],
                         capture_output=True, text=True, timeout=30).stdout
    return [line.split("\t")[0] for line in out.splitlines() if "user-center-gateway-notify" in line]


def test_a_burst_is_applied_in_batches_with_the_decisions_of_one_by_one(procs, worker_env, publisher, funded_user,
                                                                         opened_user, make_user, db, ledger):
    user = funded_user("500.00")
    recharge = {"callbackUrl": CALLBACK}
    r1, r2, r3, r4, r5 = (request_no_of(user.post("/my/recharge-records", {**recharge, "amount": f"{n}.00"})
                                        .json["result"]) for n in (1, 2, 3, 4, 5))
    w1 = request_no_of(user.post("/my/withdraw-records", {**recharge, "amount": "10.00"}).json["result"])
    opener = make_user()
    register_no = request_no_of(opener.post("/my/consumers", open_form()).json["result"])
    unknown = "REQ_" + "A" * 32
    burst = [notification("RECHARGE", r1, True, "1.00"), notification("RECHARGE", r2, False, "2.00"),
             notification("RECHARGE", r1, True, "1.00"), notification("RECHARGE", r3, True, "3.33"),
             notification("PERSONAL_REGISTER", register_no), notification("RECHARGE", r4, True, "4.00"),
             notification("RECHARGE", r4, False, "4.00"), notification("WITHDRAW", w1, False, "10.00"),
             notification("WITHDRAW", w1, False, "10.00"), notification("RECHARGE", unknown, True, "1.00"),
             notification("RECHARGE", r5, True, "5.00"), notification("RECHARGE", r1, True, "1.00")]
    for message in burst:  # queued before the worker starts: delivered together
        publisher.publish(message)
    worker = procs.worker(WORKER, worker_env(LOG_LEVEL="INFO"))
    wait_for(lambda: status(db, "recharge_record", r5) == 1 and status(db, "withdraw_record", w1) == 2,
             what="burst applied")
    assert [status(db, "recharge_record", no) for no in (r1, r2, r3, r4, r5)] == [1, 2, 0, 1, 1]
    assert depository_status(db, opener.user_no) == "OPENED"
    adds = ledger.trade_nos(user.user_no, 1)  # newest first; the last is the funding recharge
    assert sorted(adds[:-1]) == sorted([r1, r4, r5])
    assert ledger.trade_nos(user.user_no, 3) == [w1]
    assert ledger.balance(user.user_no) == 50000 + 100 + 400 + 500  # the withdraw's hold came back
    rows = anomalies(db, r3, r4, unknown)
    assert [(row["request_no"], row["reason"].split(":")[0].split(" ")[0]) for row in rows] == \
        [(r3, "notified"), (r4, "conflicting")]
    wait_for(lambda: publisher.ready(GATEWAY_NOTIFY_DLQ) == 1, what="the unknown request dead-lettered")
    log = wait_for(lambda: (text := worker.log_path.read_text()) and "ledger batch of" in text and text,
                   what="the batch log line")
    assert "one by one" not in log and f"unknown requestNo '{unknown}'" in log

    # a posting the ledger refuses (a locked wallet, 423): the run is refused as a whole, then applied
    # one by one, and the refused message is retried until the wallet accepts it
    locked = opened_user()
    lost = request_no_of(locked.post("/my/recharge-records", {**recharge, "amount": "7.00"}).json["result"])
    ledger.client.client.post("/account/lock", json={"eid": locked.user_no})
    r6 = request_no_of(user.post("/my/recharge-records", {**recharge, "amount": "6.00"}).json["result"])
    worker.stop()
    publisher.publish(notification("RECHARGE", r6, True, "6.00"))
    publisher.publish(notification("RECHARGE", lost, True, "7.00"))
    worker = procs.worker(WORKER, worker_env(LOG_LEVEL="INFO"), name="second-worker")
    wait_for(lambda: status(db, "recharge_record", r6) == 1, what="the run applied one by one")
    wait_for(lambda: "applying them one by one" in worker.log_path.read_text(), what="the one-by-one log line")
    assert status(db, "recharge_record", lost) == 0  # the locked wallet keeps refusing it: retried
    ledger.client.client.post("/account/unlock", json={"eid": locked.user_no})
    wait_for(lambda: status(db, "recharge_record", lost) == 1, what="retry applied once the wallet is unlocked")
    assert ledger.balance(locked.user_no) == 700 and ledger.balance(user.user_no) == 50000 + 1000 + 600


def test_the_request_id_of_a_message_reaches_the_logs_and_the_ledger(procs, worker_env, publisher, opened_user, db,
                                                                   slow_ledger):
    user = opened_user()
    request_no = request_no_of(user.post("/my/recharge-records", {"amount": "3.00", "callbackUrl": CALLBACK})
                               .json["result"])
    worker = procs.worker(WORKER, worker_env(slow_ledger.url, LOG_LEVEL="INFO"))
    publisher.publish(notification("RECHARGE", request_no, True, "3.00"), request_id="trace-4242")
    wait_for(lambda: status(db, "recharge_record", request_no) == 1, what="applied")
    assert ("/account/balance/add", "trace-4242") in slow_ledger.request_ids

    def applied_lines():  # the line is written just after the commit that the status check sees
        return [line for line in worker.log_path.read_text().splitlines() if f"{request_no} applied" in line]

    applied = wait_for(applied_lines, what="the applied log line")
    assert len(applied) == 1 and '"request_id": "trace-4242"' in applied[0]


def pending_withdraw(db, user_no: str, amount: int, commission: int) -> str:
    """A withdraw record whose deduct has not reached the ledger yet (it is still on its way)."""
    request_no = "REQ_" + uuid.uuid4().hex.upper()
    db.execute("insert into withdraw_record (request_no, user_no, amount, commission) values (%s, %s, %s, %s)",
               (request_no, user_no, amount, commission))
    return request_no


def test_a_failed_withdraw_whose_deduct_is_still_on_its_way_is_released_for_good(procs, worker_env, publisher,
                                                                                 funded_user, db, ledger):
    user = funded_user("100.00")
    numbers = [pending_withdraw(db, user.user_no, 2000, 100) for _ in range(3)]
    for number in numbers:  # queued before the worker starts: one run
        publisher.publish(notification("WITHDRAW", number, False, "20.00"))
    procs.worker(WORKER, worker_env())
    wait_for(lambda: [status(db, "withdraw_record", no) for no in numbers] == [2, 2, 2], what="withdraws failed")
    for number in numbers:  # the deducts arrive now, after the failure was applied
        late = ledger.client.client.post("/account/balance/deduct",
                                         json={"eid": user.user_no, "trade_no": number, "amount": 2100})
        assert (late.status_code, late.json()["code"]) == (409, 911)
    assert ledger.balance(user.user_no) == 10000 and ledger.trade_nos(user.user_no, 2) == []

    # the other outcome now is an anomaly: no commission, the hold not taken again
    publisher.publish(notification("WITHDRAW", numbers[0], True, "20.00"))
    wait_for(lambda: anomalies(db, numbers[0]), what="the anomaly")
    publisher.publish(notification("WITHDRAW", numbers[1], False, "20.00"))  # a duplicate re-asserts the release
    time.sleep(0.5)
    assert commissions(ledger, *numbers) == [] and ledger.balance(user.user_no) == 10000
    assert [status(db, "withdraw_record", no) for no in numbers] == [2, 2, 2]


def test_a_paid_withdraw_credits_its_commission_to_the_platform_wallet_once(procs, worker_env, publisher,
                                                                           funded_user, db, ledger):
    platform = "PLATFORM_" + uuid.uuid4().hex[:12].upper()  # a platform wallet that does not exist yet
    env = worker_env(PLATFORM_NO=platform, LOG_LEVEL="INFO")
    user = funded_user("500.00")
    paid = [request_no_of(user.post("/my/withdraw-records", {"amount": f"{n}0.00", "callbackUrl": CALLBACK})
                          .json["result"]) for n in (1, 2, 3)]
    refused = request_no_of(user.post("/my/withdraw-records", {"amount": "40.00", "callbackUrl": CALLBACK})
                            .json["result"])
    worker = procs.worker(WORKER, env)
    for _ in range(2):
        publisher.publish(notification("WITHDRAW", paid[0], True, "10.00"))
    wait_for(lambda: status(db, "withdraw_record", paid[0]) == 1, what="the first withdraw paid")
    assert ledger.balance(platform) == 100 and ledger.trade_nos(platform, 1) == [paid[0]]
    worker.stop()

    burst = [notification("WITHDRAW", paid[1], True, "20.00"), notification("WITHDRAW", paid[2], True, "30.00"),
             notification("WITHDRAW", refused, False, "40.00"), notification("WITHDRAW", paid[0], True, "10.00"),
             notification("WITHDRAW", paid[1], True, "20.00")]
    for message in burst:  # queued before the worker starts: applied as one run
        publisher.publish(message)
    worker = procs.worker(WORKER, env, name="batch-worker")
    wait_for(lambda: [status(db, "withdraw_record", no) for no in (*paid, refused)] == [1, 1, 1, 2],
             what="the run applied")
    log = wait_for(lambda: (text := worker.log_path.read_text()) and "ledger batch of" in text and text,
                   what="the batch log line")
    assert "one by one" not in log
    assert ledger.balance(platform) == 300 and sorted(ledger.trade_nos(platform, 1)) == sorted(paid)
    assert ledger.balance(user.user_no) == 50000 - (1000 + 2000 + 3000) - 300  # paid holds stand, the refused one back
    assert ledger.trade_nos(user.user_no, 3) == [refused] and anomalies(db, *paid, refused) == []


def test_a_result_waiting_on_a_frozen_ledger_holds_no_row_lock(procs, worker_env, publisher, opened_user, db, infra,
                                                               ledger):
    stalled = procs.web("beanpay_ledger", infra.service_env("beanpay_ledger"), workers=1)
    procs.worker(WORKER, worker_env(stalled.url, SERVICE_TIMEOUT_SECONDS=30))
    user = opened_user()
    request_no, = recharges(user, "8.00")
    with frozen(gunicorn_workers(stalled)):  # the add waits in the frozen ledger
        publisher.publish(notification("RECHARGE", request_no, True, "8.00"))
        wait_for(lambda: db.execute("select applying_status from recharge_record where request_no = %s",
                                    (request_no,)).fetchone()["applying_status"] == 1,
                 what="the outcome claimed before the ledger call")
        with db.transaction():  # nothing holds the row: a writer would not wait
            db.execute("select 1 from recharge_record where request_no = %s for update nowait", (request_no,))
        assert status(db, "recharge_record", request_no) == 0
        assert user.get(f"/my/recharge-records/{request_no}").json["result"]["callbackStatus"] == 0
    wait_for(lambda: status(db, "recharge_record", request_no) == 1, what="applied once the ledger answers")
    assert ledger.trade_nos(user.user_no, 1) == [request_no] and ledger.balance(user.user_no) == 800
