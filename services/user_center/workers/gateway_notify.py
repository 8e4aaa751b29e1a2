"""GatewayNotifyConsumer: applies the bank results the agent publishes, exactly once.

``python -m user_center.workers.gateway_notify`` consumes ``user-center.gateway-notify`` with
manual acks, after its own commit. Each turn of the loop takes every message delivered so far
(up to PREFETCH_COUNT are in flight) and applies the RECHARGE and WITHDRAW results among them in
runs of up to NOTIFY_BATCH_SIZE, each run in one transaction with one ledger batch call
(:func:`user_center.notifications.apply_batch`); account openings, single messages and the
messages of a run that could not be applied together are applied one by one. Under a light load a
run is one message, so nothing waits for a batch to fill.

A message that fails is retried after a capped exponential back-off (RETRY_BASE_MS doubling up to
RETRY_MAX_MS): it stays unacked while a timer of the connection's IO loop waits (heartbeats keep
flowing), then a copy carrying the next attempt number and the time of its first failure is published
(confirmed) and the original acked. When the failure means a dependency is down (ledger or database
unreachable, a 5xx, a timeout), newly delivered messages wait for the back-off too, so a dead ledger is
not hit by every prefetched message in turn; a refusal of that one message (a locked wallet) holds up
nothing else. A message is retried for as long as NOTIFY_RETRY_HOURS from its first failure and only
then dead-lettered: an outage of minutes or hours never sends a bank result to the DLQ. A message that
can never apply (malformed, unknown requestNo) goes to the DLQ at once. The DLQ publish is confirmed
before the original is acked. Every message's logs, and the ledger calls made for it alone, carry its
``x-request-id``. Between turns, every HOLD_SWEEP_MS, the loop also
sweeps requests that never reached the bank and withdraw holds waiting to be released
(:mod:`user_center.sweep`). The worker reconnects with back-off when RabbitMQ restarts and exits
cleanly on SIGTERM, after applying what it holds.
"""
import functools
import logging
import threading
import time
from dataclasses import dataclass

import pika
import pika.exceptions
import psycopg
from psycopg_pool import PoolTimeout

from shared.backoff import backoff
from shared.errors import Unavailable
from shared.logs import bind_request_id
from shared.messaging import GATEWAY_NOTIFY_QUEUE, connect, declare_gateway_notify
from shared.workers import run_worker

from user_center import bootstrap, notifications, result_message
from user_center.dead_letters import (ATTEMPT_HEADER, FIRST_FAILURE_HEADER, ROUTING_KEY_HEADER, dead_letter,
                                      publish_to_queue)

NAME = "user-center-gateway-notify"
log = logging.getLogger("user_center.gateway_notify")
REQUEST_ID_HEADER = "x-request-id"
# Failures that mean a dependency is down rather than that this one message is refused.
DEPENDENCY_DOWN = (Unavailable, psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


@dataclass
class Delivery:
    """One delivered message and what the consumer reads from its properties."""

    channel: object
    method: object
    properties: pika.BasicProperties
    body: bytes

    @property
    def headers(self) -> dict:
        return self.properties.headers or {}

    @property
    def request_id(self) -> str:
        """The request id its logs and ledger calls carry (the message id when the header is missing)."""
        return str(self.headers.get(REQUEST_ID_HEADER) or self.properties.message_id or "")

    @property
    def attempt(self) -> int:
        return _int(self.headers.get(ATTEMPT_HEADER), 1)

    @property
    def first_failure(self) -> int | None:
        """When this message first failed (epoch seconds), carried by its retried copies."""
        try:
            return int(self.headers[FIRST_FAILURE_HEADER])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def routing_key(self) -> str:
        return str(self.headers.get(ROUTING_KEY_HEADER) or self.method.routing_key)


class GatewayNotifyConsumer:
    """The consume loop over the process's dependencies; setting ``stop`` (SIGTERM) makes ``run()`` return."""

    def __init__(self, deps: bootstrap.Dependencies, stop: threading.Event):
        self.config = deps.config
        self.pool = deps.pool
        self.ledger = deps.ledger
        self.sweeper = deps.sweeper
        self.platform_no = deps.config["PLATFORM_NO"]
        self.stop = stop
        self.connection = None
        # after a transient failure, hold further messages back until the back-off ends, so a
        # dead ledger or database is not hit by every prefetched message in turn
        self.paused_until = 0.0
        self.received: list[Delivery] = []
        self.next_sweep = 0.0

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    def run(self) -> None:
        """Consume until stopped, reconnecting with back-off whenever the broker goes away."""
        failures = 0
        while not self.stopping:
            try:
                self._consume()
                failures = 0
            except (pika.exceptions.AMQPError, OSError) as exc:
                failures += 1
                delay = backoff(failures, 0.5, self.config["RECONNECT_MAX_SECONDS"])
                log.warning("RabbitMQ connection lost (%s); reconnecting in %.1fs", exc.__class__.__name__, delay)
                self.stop.wait(delay)

    def _consume(self) -> None:
        self.connection = connect(self.config["AMQP_URL"], "user-center-gateway-notify")
        self.received = []  # deliveries of a lost connection come again
        try:
            channel = self.connection.channel()
            declare_gateway_notify(channel)
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.config["PREFETCH_COUNT"])
            channel.basic_consume(GATEWAY_NOTIFY_QUEUE, self._on_message)
            log.info("consuming %s", GATEWAY_NOTIFY_QUEUE)
            while not self.stopping:
                self.connection.process_data_events(time_limit=1)  # returns as soon as messages came
                self._apply_received()
                self._sweep_when_due()
        finally:
            if self.connection.is_open:
                self.connection.close()  # unacked messages return to the queue

    def _sweep_when_due(self) -> None:
        """Every HOLD_SWEEP_MS, settle requests the agent never received and retry the withdraw holds
        waiting to be released (see user_center.sweep)."""
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + self.config["HOLD_SWEEP_MS"] / 1000
        bind_request_id(None)
        try:
            outcomes = self.sweeper.sweep()
        except Exception as exc:  # the sweep must never stop the consumer; it runs again next time
            log.warning("request sweep failed: %s: %s", exc.__class__.__name__, getattr(exc, "msg", exc))
            return
        if outcomes:
            log.info("request sweep: %s", dict(outcomes))

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        wait = self.paused_until - time.monotonic()
        if wait > 0:
            self.connection.call_later(wait, functools.partial(self._on_message, channel, method, properties, body))
            return
        self.received.append(Delivery(channel, method, properties, body))

    def _apply_received(self) -> None:
        """Apply every message delivered so far, in order: consecutive money results in runs of up to
        NOTIFY_BATCH_SIZE, the others one by one."""
        received, self.received = self.received, []
        run: list[tuple[Delivery, dict]] = []
        for delivery in received:
            if not delivery.channel.is_open:
                continue  # the broker redelivers it after the reconnect
            bind_request_id(delivery.request_id)
            try:
                payload = result_message.read(delivery.body)
            except result_message.MalformedMessage as exc:
                self._park_never_applies(delivery, f"malformed: {exc}")
                continue
            if payload["serviceName"] in notifications.BATCHED_SERVICES:
                run.append((delivery, payload))
                if len(run) < self.config["NOTIFY_BATCH_SIZE"]:
                    continue
            self._apply_run(run)
            run = []
            if payload["serviceName"] not in notifications.BATCHED_SERVICES:
                self._apply_one(delivery, payload)
        self._apply_run(run)

    def _apply_run(self, run: list[tuple[Delivery, dict]]) -> None:
        """Apply a run of money results together; one by one when it is a single message, while a
        back-off runs, or when they could not be applied together."""
        if len(run) > 1 and self.paused_until <= time.monotonic():
            messages = [(payload, delivery.properties.message_id, delivery.request_id) for delivery, payload in run]
            try:
                never = notifications.apply_batch(self.pool, self.ledger, self.platform_no, messages)
            except Exception as exc:  # applied one by one below, each with its own retries
                log.warning("%d notifications not applied together (%s: %s); applying them one by one", len(run),
                            exc.__class__.__name__, getattr(exc, "msg", exc))
            else:
                for position, (delivery, payload) in enumerate(run):
                    if not delivery.channel.is_open:
                        continue
                    if position in never:
                        self._park_never_applies(delivery, f"unknown requestNo {payload['requestNo'][:40]!r}")
                    else:
                        delivery.channel.basic_ack(delivery.method.delivery_tag)
                return
        for delivery, payload in run:
            self._apply_one(delivery, payload)

    def _apply_one(self, delivery: Delivery, payload: dict) -> None:
        wait = self.paused_until - time.monotonic()
        if wait > 0:  # an earlier message failed: this one waits for the back-off too
            self.connection.call_later(wait, functools.partial(
                self._on_message, delivery.channel, delivery.method, delivery.properties, delivery.body))
            return
        if not delivery.channel.is_open:
            return
        bind_request_id(delivery.request_id)
        try:
            notifications.apply(self.pool, self.ledger, self.platform_no, payload, delivery.properties.message_id)
        except notifications.NeverApplies as exc:
            self._park_never_applies(delivery, str(exc))
            return
        except Exception as exc:  # a dependency down, or this message refused for now: retried
            self._retry_later(delivery, exc)
            return
        delivery.channel.basic_ack(delivery.method.delivery_tag)

    def _retry_later(self, delivery: Delivery, exc: Exception) -> None:
        """Retry the message after a back-off, for NOTIFY_RETRY_HOURS from its first failure; then park it."""
        message_id, attempt = delivery.properties.message_id, delivery.attempt
        reason = f"{exc.__class__.__name__}: {getattr(exc, 'msg', exc)}"
        first_failure = delivery.first_failure or int(time.time())  # an AMQP header: a whole number
        if time.time() - first_failure >= self.config["NOTIFY_RETRY_SECONDS"]:
            log.error("gateway notification %s failed for %.1f hours (%d attempts), dead-lettered: %s", message_id,
                      (time.time() - first_failure) / 3600, attempt, reason,
                      extra={"fields": {"alert": "gateway-notify-dead-lettered"}})
            self._park(delivery, reason)
            return
        delay = backoff(attempt, self.config["RETRY_BASE_MS"] / 1000, self.config["RETRY_MAX_MS"] / 1000)
        if isinstance(exc, DEPENDENCY_DOWN):
            self.paused_until = time.monotonic() + delay
        log.warning("gateway notification %s attempt %d failed (%s); retrying in %.2fs", message_id, attempt, reason,
                    delay)
        self.connection.call_later(delay, functools.partial(self._retry, delivery, attempt + 1, first_failure))

    @staticmethod
    def _retry(delivery: Delivery, attempt: int, first_failure: int) -> None:
        """Requeue a copy carrying the next attempt number and the first failure's time, then ack the original."""
        if not delivery.channel.is_open:
            return  # the broker redelivers the unacked original after the reconnect
        headers = {**delivery.headers, ATTEMPT_HEADER: attempt, FIRST_FAILURE_HEADER: first_failure,
                   ROUTING_KEY_HEADER: delivery.routing_key}
        publish_to_queue(delivery.channel, GATEWAY_NOTIFY_QUEUE, delivery.properties, delivery.body, headers)
        delivery.channel.basic_ack(delivery.method.delivery_tag)

    def _park_never_applies(self, delivery: Delivery, reason: str) -> None:
        log.error("gateway notification %s can never apply, dead-lettered: %s", delivery.properties.message_id,
                  reason, extra={"fields": {"alert": "gateway-notify-dead-lettered"}})
        self._park(delivery, reason)

    @staticmethod
    def _park(delivery: Delivery, reason: str) -> None:
        dead_letter(delivery.channel, delivery.properties, delivery.body, delivery.routing_key, delivery.attempt,
                    reason)
        delivery.channel.basic_ack(delivery.method.delivery_tag)


def _int(value, default: int) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return default


def main() -> None:
    """Run the consumer until SIGTERM or SIGINT, on the dependencies :func:`user_center.bootstrap.build` makes."""
    deps = bootstrap.build(name=NAME)
    try:
        run_worker(NAME, deps.config, lambda config, stop: GatewayNotifyConsumer(deps, stop).run())
    finally:
        deps.close()


if __name__ == "__main__":
    main()
