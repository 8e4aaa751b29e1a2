"""The outbox relay: publishes with the agreed properties, marks rows sent only after confirms, holds
no transaction or row lock while it waits for them, and loses nothing when killed or when the broker
drops its connection."""
import json
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from psycopg.rows import dict_row

import pika

from shared.contract import parse_message
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE
from shared.outbox import OutboxRelay, PublishIncomplete, enqueue

from depository_agent.bootstrap import build_relay
from depository_agent.config import load

from tests.depository_agent.conftest import RELAY, SERVICE, bank_result, drain
from tests.support.waiting import wait_for


def test_relay_publishes_settled_notifications_with_the_agreed_properties(infra, agent_db, make_request, notify,
                                                                          db, test_queue):
    channel, queue = test_queue
    body, _ = make_request("WITHDRAW")
    result = bank_result("WITHDRAW", body["requestNo"], amount="50.00")
    assert notify("WITHDRAW", result).status_code == 200
    relay = build_relay(load(infra.config(SERVICE)))
    try:
        relay.connect()
        while relay.relay_batch():
            pass
    finally:
        relay.close()
    message_id = f"WITHDRAW:{body['requestNo']}"
    [(method, properties, payload)] = drain(channel, queue, {message_id})[message_id]
    assert method.exchange == GATEWAY_NOTIFY_EXCHANGE and method.routing_key == "WITHDRAW"
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert properties.headers["x-request-id"]
    assert json.loads(payload) == {**result, "serviceName": "WITHDRAW"}
    parsed = parse_message(payload)  # exactly as user-center's consumer reads it
    assert (parsed.message_id, parsed.status, parsed.amount) == (message_id, 1, 5000)
    row = db.execute("select sent_at from outbox where message_id = %s", (message_id,)).fetchone()
    assert row["sent_at"] is not None


@contextmanager
def _running(relay):
    """Run ``relay`` in a thread during the with-block, then stop it; it must stop."""
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,))
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()


def test_an_unroutable_message_stays_pending_until_a_queue_is_bound(infra, agent_db, db, test_queue, caplog):
    """A real exchange with no queue bound: the broker confirms the publish but returns the message, so
    its row must not be marked sent; the routable row of the same batch is; once a queue is bound,
    the kept row goes out."""
    exchange = f"test.unbound.{uuid.uuid4().hex[:8]}"
    unroutable, routable = f"TEST:{uuid.uuid4().hex}", f"TEST:{uuid.uuid4().hex}"
    with db.transaction():
        enqueue(db, exchange, "RECHARGE", {"lost": "never"}, unroutable)
        enqueue(db, GATEWAY_NOTIFY_EXCHANGE, "RECHARGE", {"routed": True}, routable)
    config = load(infra.config(SERVICE))
    relay = OutboxRelay(config["DATABASE_URL"], config["AMQP_URL"], name="test-relay",
                        declare=lambda channel: channel.exchange_declare(exchange, "topic", auto_delete=True),
                        batch_size=1000)

    def row(message_id):
        return db.execute("select sent_at, returned, retry_at, last_error from outbox where message_id = %s",
                          (message_id,)).fetchone()

    channel, queue = test_queue
    try:
        relay.connect()
        with pytest.raises(PublishIncomplete, match="unroutable"):
            for _ in range(10):  # the first batch that holds the row raises
                relay.relay_batch()
        kept = row(unroutable)
        assert kept["sent_at"] is None and kept["returned"] == 1 and "no queue" in kept["last_error"]
        assert db.execute("select %s > now() as later", (kept["retry_at"],)).fetchone()["later"]  # not at once
        assert any(record.levelname == "ERROR" and unroutable in record.getMessage() for record in caplog.records)
        assert row(routable)["sent_at"] is not None
        assert routable in drain(channel, queue, {routable})

        bound = f"test.bound.{uuid.uuid4().hex[:8]}"
        channel.queue_declare(bound, exclusive=True)
        channel.queue_bind(bound, exchange, routing_key="#")
        db.execute("update outbox set retry_at = now() where message_id = %s", (unroutable,))
        relay.connect()
        while relay.relay_batch():
            pass
        assert row(unroutable)["sent_at"] is not None
        received = drain(channel, bound, {unroutable})
        assert json.loads(received[unroutable][0][2]) == {"lost": "never"}
    finally:
        relay.close()
        db.execute("delete from outbox where message_id = any(%s)", ([unroutable, routable],))


def test_unconfirmed_rows_stay_pending_when_the_broker_is_unreachable(infra, agent_db, db):
    message_id = f"TEST:{uuid.uuid4().hex}"
    with db.transaction():
        enqueue(db, GATEWAY_NOTIFY_EXCHANGE, "RECHARGE", {"n": 1}, message_id)
    dead_broker = "amqp://guest:guest@127.0.0.1:1/%2F"
    with _running(build_relay(load(infra.config(SERVICE, AMQP_URL=dead_broker)))):
        time.sleep(0.8)
    assert db.execute("select sent_at from outbox where message_id = %s", (message_id,)).fetchone()["sent_at"] is None


def _relay_connections(vhost: str) -> list[str]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "vhost", "client_properties"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("\t")[0] for line in out.splitlines()
            if f"\t{vhost}\t" in line and "outbox-relay" in line and "declare" not in line]


def _close_connections(vhost: str) -> int:
    pids = _relay_connections(vhost)
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test: simulated broker failure"],
                       capture_output=True, timeout=60)
    return len(pids)


def test_relays_survive_sigkill_and_lost_connections_without_losing_a_row(procs, infra, agent_db, test_queue):
    channel, queue = test_queue
    env = infra.service_env(SERVICE, OUTBOX_BATCH_SIZE=25, OUTBOX_POLL_MS=50)
    first, second = procs.worker(RELAY, env, name="relay-1"), procs.worker(RELAY, env, name="relay-2")
    ids = [f"TEST:{uuid.uuid4().hex}" for _ in range(1500)]
    done = threading.Event()

    def produce():
        with psycopg.connect(agent_db, autocommit=True) as conn:
            for start in range(0, len(ids), 10):
                with conn.transaction():
                    for message_id in ids[start:start + 10]:
                        enqueue(conn, GATEWAY_NOTIFY_EXCHANGE, "RECHARGE", {"id": message_id}, message_id)
                time.sleep(0.005)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.4)
    first.kill()                                            # crash mid-run, batches in flight
    first = procs.worker(RELAY, env, name="relay-1b")
    closed = _close_connections(infra.vhost)                # the broker drops every relay connection
    assert closed >= 1
    producer.join(60)
    assert done.is_set()
    received = drain(channel, queue, set(ids), timeout=40)
    missing = set(ids) - set(received)
    assert not missing, f"{len(missing)} messages never published"
    with psycopg.connect(agent_db) as conn:
        wait_for(lambda: conn.execute("select count(*) from outbox where sent_at is null and message_id = any(%s)",
                                      (ids,)).fetchone()[0] == 0, timeout=10, what="every row marked sent")
        assert conn.execute("select count(*) from outbox where sent_at is null and message_id = any(%s)",
                            (ids,)).fetchone()[0] == 0
    assert first.alive() and second.alive()
    for message_id in ids:
        copies = received[message_id]
        assert json.loads(copies[0][2]) == {"id": message_id}
        assert all(properties.delivery_mode == 2 for _, properties, _ in copies)


def test_relay_stops_cleanly_on_sigterm(procs, infra, agent_db):
    relay = procs.worker(RELAY, infra.service_env(SERVICE, LOG_LEVEL="INFO"), name="relay-term")
    relay.wait_until(lambda: '"msg": "started"' in relay.log_tail(), timeout=30, what="start")
    relay.stop(timeout=5)
    assert relay.popen.returncode == 0, relay.log_tail()


def _aged_rows(db, ages_s: list[float | None]) -> list[str]:
    """One outbox row per age: sent that many seconds ago, or pending (None); their message ids."""
    ids = []
    with db.transaction():
        for age in ages_s:
            message_id = f"TEST:{uuid.uuid4().hex}"
            enqueue(db, GATEWAY_NOTIFY_EXCHANGE, "RECHARGE", {"age": age}, message_id)
            if age is not None:
                db.execute("update outbox set sent_at = now() - make_interval(secs => %s) where message_id = %s",
                           (age, message_id))
            ids.append(message_id)
    return ids


def test_prune_deletes_only_rows_sent_before_the_retention(infra, agent_db, db, monkeypatch):
    db.execute("delete from outbox")  # earlier tests' rows: this test owns the table's order
    # in id order, as a relay leaves them: older sent rows first, one row stuck pending among them
    first, second, pending, third, old_sent, recent_sent = _aged_rows(db, [4 * 3600, 4 * 3600, None, 3 * 3600,
                                                                           7200, 60])
    extra_old = [first, second, third]
    relay = build_relay(load(infra.config(SERVICE, OUTBOX_RETENTION_HOURS=1)))
    monkeypatch.setattr(relay, "PRUNE_BATCH", 2)  # several batches, with a pending row among the oldest
    try:
        relay.connect()
        assert relay.prune() == 4
        assert relay.prune() == 0
    finally:
        relay.close()
    left = {row["message_id"] for row in db.execute(
        "select message_id from outbox where message_id = any(%s)",
        ([old_sent, recent_sent, pending, *extra_old],)).fetchall()}
    assert left == {recent_sent, pending}


def test_the_running_relay_prunes_and_a_retention_of_zero_keeps_everything(infra, agent_db, db):
    [old_sent] = _aged_rows(db, [10 * 86400])
    with _running(build_relay(load(infra.config(SERVICE, OUTBOX_RETENTION_HOURS=0)))):
        time.sleep(0.5)
    assert db.execute("select 1 from outbox where message_id = %s", (old_sent,)).fetchone() is not None

    with _running(build_relay(load(infra.config(SERVICE, OUTBOX_RETENTION_HOURS=24)))):
        wait_for(lambda: db.execute("select 1 from outbox where message_id = %s", (old_sent,)).fetchone() is None,
                 timeout=10, what="the running relay to prune")


def _pending(db, count: int) -> list[str]:
    ids = [f"TEST:{uuid.uuid4().hex}" for _ in range(count)]
    with db.transaction():
        for message_id in ids:
            enqueue(db, GATEWAY_NOTIFY_EXCHANGE, "RECHARGE", {"id": message_id}, message_id)
    return ids


def _rows(db, ids: list[str]) -> list[dict]:
    return db.execute("select message_id, sent_at, retry_at from outbox where message_id = any(%s)", (ids,)).fetchall()


def _claim_as_another_relay(conn, relay) -> set[str]:
    """The message ids another relay would claim now (its claims end with ``conn``'s session)."""
    rows = conn.execute(relay._claim, {"sent": [], "window": 10_000, "limit": 10_000}).fetchall()
    return {row["message_id"] for row in rows}


def test_no_transaction_or_row_lock_is_held_while_confirms_are_awaited(infra, agent_db, db, test_queue):
    """While the broker is slow to confirm, the relay's connection is idle (no transaction), its rows can
    be locked and updated by anyone, and another relay's claim passes them over."""
    ids = _pending(db, 3)
    relay = build_relay(infra.config(SERVICE))
    seen = {}
    publish = relay.publisher.publish_batch

    def slow_confirms(rows):
        with psycopg.connect(agent_db, autocommit=True, row_factory=dict_row) as probe:
            seen["state"] = probe.execute("select state from pg_stat_activity where pid = %s",
                                          (relay.db.info.backend_pid,)).fetchone()["state"]
            with probe.transaction():
                seen["locked"] = len(probe.execute("select 1 from outbox where message_id = any(%s) for update nowait",
                                                   (ids,)).fetchall())
            time.sleep(1.0)
            seen["taken"] = _claim_as_another_relay(probe, relay) & set(ids)
        return publish(rows)

    relay.publisher.publish_batch = slow_confirms
    try:
        relay.connect()
        while relay.relay_batch():
            pass
    finally:
        relay.close()
    assert seen == {"state": "idle", "locked": 3, "taken": set()}
    assert all(row["sent_at"] is not None for row in _rows(db, ids))
    assert set(ids) <= set(drain(*test_queue, set(ids)))


def test_a_failed_publish_gives_the_claims_back_at_once(infra, agent_db, db):
    ids = _pending(db, 2)
    relay = build_relay(infra.config(SERVICE))

    def broker_gone(rows):
        raise pika.exceptions.AMQPConnectionError("gone")

    relay.publisher.publish_batch = broker_gone
    try:
        relay.connect()
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            relay.relay_batch()
        with psycopg.connect(agent_db, autocommit=True, row_factory=dict_row) as other:
            assert set(ids) <= _claim_as_another_relay(other, relay)  # while the failed relay still runs
    finally:
        relay.close()
    assert all(row["sent_at"] is None for row in _rows(db, ids))


def test_the_rows_of_a_relay_that_died_are_published_by_another_at_once(infra, agent_db, db, test_queue):
    ids = _pending(db, 2)
    dead = build_relay(infra.config(SERVICE))
    dead.connect()
    claimed = {row["message_id"] for row in dead.db.execute(
        dead._claim, {"sent": [], "window": 10_000, "limit": 10_000}).fetchall()}
    assert set(ids) <= claimed
    survivor = build_relay(infra.config(SERVICE))
    try:
        survivor.connect()
        while survivor.relay_batch():
            pass
        assert all(row["sent_at"] is None for row in _rows(db, ids))  # claimed by a live relay: left alone
        dead.db.close()  # killed after claiming: nothing published, nothing given back but by its connection
        dead.publisher.close()
        wait_for(lambda: survivor.relay_batch() >= 0 and all(row["sent_at"] is not None for row in _rows(db, ids)),
                 timeout=5, what="the survivor to publish them")
    finally:
        survivor.close()
    assert set(ids) <= set(drain(*test_queue, set(ids)))
