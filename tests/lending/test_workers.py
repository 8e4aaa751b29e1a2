"""lending's jobs and consumers as real processes over RabbitMQ: an order goes from push to disbursement and
a repayment settles on their own; a refused order is called back; callbacks reach the partner-sandbox
through its fault knobs; messages that can never apply are dead-lettered, not lost."""
import hashlib
import json
from datetime import timedelta

import pika
import pytest
import requests

from shared.contract import GATEWAY_NOTIFY_EXCHANGE
from tests.lending.conftest import agree, as_env, borrow_of, id_number, order_status, push, stop_together
from tests.lending.standins import PLATFORM_NO
from tests.support.processes import Worker
from tests.support.waiting import wait_for

from lending import schedules
from lending.workers import CREDIT_RESULTS, DEAD_LETTERS, declare

WORKERS = ("outbox_relay", "credit_engine", "credit_data_pull", "order_parse", "credit_apply", "credit_result",
           "depository_state_check", "audit_result", "disburse", "loan_result", "repay_result", "ledger_mirror",
           "overdue")


@pytest.fixture(scope="module")
def workers(lending_infra, settings, tmp_path_factory):
    """Every lending worker once, and two partner-callbacks senders."""
    env = lending_infra.service_env("lending", **as_env(settings))
    log_dir = tmp_path_factory.mktemp("workers")
    started = [Worker(f"lending.workers.{name}", env, log_dir).start() for name in WORKERS]
    started += [Worker("lending.workers.partner_callbacks", env, log_dir, name=f"callbacks-{n}").start()
                for n in (1, 2)]
    yield {worker.name: worker for worker in started}
    stop_together(started)


def sandbox_view(sandbox, order_no: str) -> dict:
    return requests.get(f"{sandbox.url}/sim/orders/{order_no}", timeout=20).json()


def events(sandbox, order_no: str) -> list[str]:
    return [callback["event"] for callback in sandbox_view(sandbox, order_no)["callbacks"]]


def test_an_order_is_disbursed_and_repaid_by_the_workers_alone(workers, partner, users, bank, ledger, funder, sandbox,
                                                              db):
    order_no, person = push(partner, amount=2_000_000, term=6)
    wait_for(lambda: order_status(db, order_no) == 12, timeout=60, what="credit approval by the engine")
    partner.ok("card/bind", {"orderNo": order_no, "bankCode": "ICBC", "cardNumber": "6222020200199990000",
                             "mobile": person["mobile"]})
    answer = partner.ok("loan/confirm", {"orderNo": order_no})
    assert answer["status"] == "OPEN_ACCOUNT"
    assert requests.get(answer["openAccountUrl"], timeout=10).status_code == 200  # the borrower follows the link
    assert requests.get(answer["openAccountUrl"], timeout=10).status_code == 410  # once
    borrower = users.user_no_of(person["mobile"])
    wait_for(lambda: (borrow_of(db, order_no) or {}).get("status") == 30, timeout=60,
             what="the borrow created by the state check, reviewed and disbursed")
    assert partner.ok("loan/result", {"orderNo": order_no})["status"] == 7001
    wait_for(lambda: "loan.succeeded" in events(sandbox, order_no), timeout=30, what="loan.succeeded at the partner")
    succeeded = next(c for c in sandbox_view(sandbox, order_no)["callbacks"] if c["event"] == "loan.succeeded")
    assert len(succeeded["biz"]["plans"]) == 6 and succeeded["biz"]["actualAmount"] == 1_960_000
    bank.open_account(borrower, 60_000)  # the borrower recharges for the interest
    ledger.add(borrower, "RCH-" + order_no, 60_000)
    trial = partner.ok("repay/trial", {"orderNo": order_no, "periods": [1]})
    partner.ok("repay", {"orderNo": order_no, "repayNo": "RP-W-" + order_no, "periods": [1], "amount": trial["amount"]})
    wait_for(lambda: partner.ok("repay/result", {"repayNo": "RP-W-" + order_no})["status"] == "SUCCESS", timeout=20,
             what="the repayment settled")
    wait_for(lambda: "repay.result" in events(sandbox, order_no), timeout=30, what="repay.result at the partner")
    wait_for(lambda: agree(bank, ledger, [borrower, funder, PLATFORM_NO], db) == {}, timeout=20, what="ledger = bank")
    assert all(worker.alive() for worker in workers.values())


def test_a_refused_order_is_called_back_and_may_not_apply_again(workers, deps, partner, sandbox, db):
    old = id_number(schedules.today(deps.config) - timedelta(days=365 * 57))
    order_no, person = push(partner, idNumber=old)
    wait_for(lambda: order_status(db, order_no) == 4, timeout=60, what="the refusal")
    wait_for(lambda: "credit.rejected" in events(sandbox, order_no), timeout=30, what="credit.rejected at the partner")
    filtered = partner.ok("user/filter", {"mobileMd5": hashlib.md5(person["mobile"].encode()).hexdigest(),
                                          "idNumberMd5": hashlib.md5(old.encode()).hexdigest()})
    assert filtered["admit"] is False and filtered["canLoanTime"]


def test_a_risk_review_refusal_calls_back_7003(workers, lending_infra, settings, deps, partner, users, sandbox, db,
                                               tmp_path):
    """The review blacklist (the risk team's) refuses at review: borrow 27, loan.rejected, 7003."""
    refused = id_number()
    workers["credit_engine"].stop()
    engine = Worker("lending.workers.credit_engine", lending_infra.service_env(
        "lending", **as_env(settings), REVIEW_BLACKLIST=refused), tmp_path).start()
    try:
        order_no, person = push(partner, idNumber=refused)
        wait_for(lambda: order_status(db, order_no) == 12, timeout=60, what="credit approval")
        user = deps.user_center.find_or_create(person["mobile"], person["name"], refused)
        users.open_account(user["userNo"])
        assert partner.ok("loan/confirm", {"orderNo": order_no})["status"] == "ACCEPTED"
        wait_for(lambda: borrow_of(db, order_no)["status"] == 27, timeout=60, what="the review's refusal")
        assert partner.ok("loan/result", {"orderNo": order_no})["status"] == 7003
        wait_for(lambda: "loan.rejected" in events(sandbox, order_no), timeout=30, what="loan.rejected")
    finally:
        engine.stop()
        workers["credit_engine"].start()


def test_callbacks_get_through_a_failing_and_slow_partner_once_each(workers, deps, partner, sandbox, lending_infra, db):
    headers = {"Authorization": f"Bearer {lending_infra.internal_token}"}
    assert requests.post(f"{sandbox.url}/sim/faults", json={"failFirst": 2, "delayMs": 100}).status_code == 401
    assert requests.post(f"{sandbox.url}/sim/faults", json={"failFirst": 2, "delayMs": 100}, headers=headers,
                         timeout=5).status_code == 200
    try:
        too_old = schedules.today(deps.config) - timedelta(days=365 * 60)
        orders = [push(partner, idNumber=id_number(too_old))[0] for _ in range(4)]
        for order_no in orders:
            wait_for(lambda: "credit.rejected" in events(sandbox, order_no), timeout=60, what="the callback through")
        for order_no in orders:
            [callback] = sandbox_view(sandbox, order_no)["callbacks"]
            assert callback["repeats"] == 0  # delivered once it was accepted, never again
            row = db.execute("select attempts, status from partner_callbacks where event_id = %s",
                             (callback["eventId"],)).fetchone()
            assert row["status"] == 1 and row["attempts"] == 3  # two failed on purpose, then accepted
    finally:
        requests.post(f"{sandbox.url}/sim/faults", json={"failFirst": 0, "delayMs": 0}, headers=headers, timeout=5)


def test_a_message_that_can_never_apply_is_dead_lettered_and_an_unknown_result_recorded(workers, lending_infra, db):
    connection = pika.BlockingConnection(pika.URLParameters(lending_infra.amqp_url))
    try:
        channel = connection.channel()
        declare(channel)
        channel.confirm_delivery()
        channel.basic_publish("", CREDIT_RESULTS, b"{not json", pika.BasicProperties(message_id="garbage-1"))
        channel.basic_publish(GATEWAY_NOTIFY_EXCHANGE, "CONFIRM_LOAN", json.dumps({
            "requestNo": "REQ_" + "0" * 32, "serviceName": "CONFIRM_LOAN", "status": 1, "respCode": "00000"}).encode(),
            pika.BasicProperties(message_id="CONFIRM_LOAN:REQ_" + "0" * 32))

        def parked():
            method, properties, body = channel.basic_get(DEAD_LETTERS, auto_ack=True)
            return properties if method is not None else None
        properties = wait_for(parked, timeout=20, what="the dead letter")
        assert properties.message_id == "garbage-1" and "JSON" in properties.headers["x-dead-letter-reason"]
        wait_for(lambda: db.execute("select 1 from anomalies where kind = 'unknown-result' and reference = %s",
                                    ("REQ_" + "0" * 32,)).fetchone(), timeout=20, what="the anomaly")
        assert channel.queue_declare(CREDIT_RESULTS, passive=True).method.message_count == 0
    finally:
        connection.close()
