"""/metrics carries user-center's gauges, read from its own (fresh) database and the run's RabbitMQ."""
import json

import pika
import pytest

from shared.ledger_client import LedgerClient
from shared.messaging import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_EXCHANGE, GATEWAY_NOTIFY_QUEUE
from shared.migrations import drop_database, migrate
from tests.support.metrics import key, scrape, value
from tests.user_center.conftest import CALLBACK, User, new_mobile, notification, open_form, request_no_of

from user_center import MIGRATIONS_DIR, notifications
from user_center.bootstrap import create_app, dependencies


@pytest.fixture(scope="module")
def fresh(infra, ledger, agent):
    """An app on a database of its own, so every count is known."""
    url = f"{infra.database_url('user_center')}_metrics"
    migrate(url, MIGRATIONS_DIR)
    app = create_app(infra.config("user_center", DATABASE_URL=url, LEDGER_URL=ledger.url,
                                  DEPOSITORY_AGENT_URL=agent.url))
    yield app
    dependencies(app).pool.close()
    drop_database(url)


def gauges(client) -> dict:
    """``{(name, frozenset(labels)): value}`` of the user_center_ samples on /metrics."""
    return scrape(client, "user_center_")


def test_gauges_count_requests_anomalies_holds_and_queues(fresh, agent, ledger, publisher):
    client = fresh.test_client()
    pool = dependencies(fresh).pool
    ledger_client = LedgerClient(ledger.url, fresh.config)

    def apply(service: str, request_no: str, success: bool = True, amount: str | None = None) -> str:
        return notifications.apply(pool, ledger_client, fresh.config["PLATFORM_NO"],
                                   notification(service, request_no, success, amount))

    mobile = new_mobile()
    user_no = client.post("/consumers", json={"mobile": mobile, "password": "long-enough"}).json["result"]["userNo"]
    token = client.post("/tokens", json={"mobile": mobile, "password": "long-enough"}).json["result"]["access_token"]
    user = User(client, mobile, user_no, token)
    assert apply("PERSONAL_REGISTER", request_no_of(user.post("/my/consumers", open_form()).json["result"])) == \
        notifications.APPLIED

    def recharge(amount: str) -> str:
        return request_no_of(user.post("/my/recharge-records", {"amount": amount, "callbackUrl": CALLBACK})
                             .json["result"])

    credited = recharge("500.00")
    assert apply("RECHARGE", credited, True, "500.00") == notifications.APPLIED
    assert apply("RECHARGE", recharge("1.00"), False, "1.00") == notifications.APPLIED
    pending = recharge("2.00")
    agent.fail_with = 503
    assert user.post("/my/recharge-records", {"amount": "3.00", "callbackUrl": CALLBACK}).status_code == 503
    agent.fail_with = None
    held = request_no_of(user.post("/my/withdraw-records", {"amount": "10.00", "callbackUrl": CALLBACK})
                         .json["result"])
    assert apply("RECHARGE", credited, False, "500.00") == notifications.ANOMALY  # the other outcome
    with pool.connection() as conn:
        conn.execute("update recharge_record set created_at = now() - interval '100 seconds' where request_no = %s",
                     (pending,))
        conn.execute("insert into withdraw_hold_release (request_no, user_no, amount, reason)"
                     " values (%s, %s, 1000, 'test')", (held, user_no))
    for _ in range(3):
        publisher.channel.basic_publish(GATEWAY_NOTIFY_EXCHANGE, "RECHARGE", json.dumps({"status": 1}).encode(),
                                        pika.BasicProperties(delivery_mode=2))
    publisher.channel.basic_publish("", GATEWAY_NOTIFY_DLQ, b"{}", pika.BasicProperties(delivery_mode=2))

    try:
        samples = gauges(client)
    finally:
        publisher.channel.queue_purge(GATEWAY_NOTIFY_QUEUE)
        publisher.channel.queue_purge(GATEWAY_NOTIFY_DLQ)
    expected = {("PERSONAL_REGISTER", "success"): 1, ("RECHARGE", "success"): 1, ("RECHARGE", "failed"): 2,
                ("RECHARGE", "pending"): 1, ("WITHDRAW", "pending"): 1}
    for kind in ("PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"):
        for status in ("pending", "success", "failed"):
            assert value(samples, "user_center_requests", kind=kind, status=status) == expected.get((kind, status), 0)
    # the recharge failed at the agent call was settled by user-center, not by a notification
    assert [value(samples, "user_center_notifications_applied", kind=kind)
            for kind in ("PERSONAL_REGISTER", "RECHARGE", "WITHDRAW")] == [1, 2, 0]
    assert 100 <= value(samples, "user_center_oldest_pending_request_seconds", kind="RECHARGE") < 200
    assert value(samples, "user_center_oldest_pending_request_seconds", kind="PERSONAL_REGISTER") == 0
    assert value(samples, "user_center_gateway_notify_anomalies") == 1
    assert value(samples, "user_center_withdraw_holds_waiting") == 1
    assert value(samples, "user_center_queue_messages", queue=GATEWAY_NOTIFY_QUEUE) == 3
    assert value(samples, "user_center_queue_messages", queue=GATEWAY_NOTIFY_DLQ) == 1


def test_with_rabbitmq_unreachable_the_other_gauges_remain(infra, ledger, agent):
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  AMQP_URL="amqp://guest:guest@127.0.0.1:9/%2F"))
    samples = gauges(app.test_client())
    assert not any(name == "user_center_queue_messages" for name, _ in samples)
    assert key("user_center_withdraw_holds_waiting") in samples
    assert value(samples, "user_center_withdraw_holds_waiting") >= 0
    assert key("user_center_requests", kind="RECHARGE", status="pending") in samples
    dependencies(app).pool.close()
