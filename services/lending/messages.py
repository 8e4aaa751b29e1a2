"""lending's RabbitMQ topology, and the consume loop every lending consumer runs.

Exchange ``lending.events`` (topic) carries the credit engine's traffic: ``credit.request`` and
``audit.request`` (written by lending through its outbox), ``credit.decision`` and ``audit.decision``
(published by the engine). The depository agent's results arrive on ``depository.gateway-notify``
with routing key = serviceName: ``lending.loan-results`` and ``lending.repay-results`` are bound to
exactly the section 9 services each one settles.

A consumer acks a message only after its handler committed. A handler raising :class:`Malformed`
(a message that can never apply) sends it to ``lending.dead-letters`` (confirmed) before the ack;
any other failure is transient: the message is kept and tried again after a capped back-off, never
dead-lettered, while other messages go on.
"""
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import pika
import pika.exceptions

from shared.contract import (CANCEL_PRE_TRANSACTION, CONFIRM_LOAN, CONFIRM_REPAYMENT, CREATE_PROJECT,
                                     MODIFY_PROJECT, PRE_TRANSACTION)
from shared.logs import bind_request_id
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE, QUORUM, connect
from shared.outbox import Backoff

from lending.answers import json_object

log = logging.getLogger(__name__)

LENDING_EXCHANGE = "lending.events"
CREDIT_REQUEST, CREDIT_DECISION = "credit.request", "credit.decision"
AUDIT_REQUEST, AUDIT_DECISION = "audit.request", "audit.decision"
CREDIT_REQUESTS = "lending.credit-requests"
CREDIT_RESULTS = "lending.credit-results"
AUDIT_REQUESTS = "lending.audit-requests"
AUDIT_RESULTS = "lending.audit-results"
LOAN_RESULTS = "lending.loan-results"
REPAY_RESULTS = "lending.repay-results"
DEAD_LETTERS = "lending.dead-letters"
LOAN_RESULT_KEYS = (CREATE_PROJECT, MODIFY_PROJECT, PRE_TRANSACTION, CANCEL_PRE_TRANSACTION, CONFIRM_LOAN)
REPAY_RESULT_KEYS = (PRE_TRANSACTION, CANCEL_PRE_TRANSACTION, CONFIRM_REPAYMENT)
_LENDING_QUEUES = {CREDIT_REQUESTS: CREDIT_REQUEST, CREDIT_RESULTS: CREDIT_DECISION,
                   AUDIT_REQUESTS: AUDIT_REQUEST, AUDIT_RESULTS: AUDIT_DECISION}
_DEPOSITORY_QUEUES = {LOAN_RESULTS: LOAN_RESULT_KEYS, REPAY_RESULTS: REPAY_RESULT_KEYS}
REASON_HEADER = "x-dead-letter-reason"


def declare(channel) -> None:
    """Declare lending's exchanges, queues and bindings (idempotent)."""
    channel.exchange_declare(LENDING_EXCHANGE, exchange_type="topic", durable=True)
    channel.exchange_declare(GATEWAY_NOTIFY_EXCHANGE, exchange_type="topic", durable=True)
    for queue, routing_key in _LENDING_QUEUES.items():
        channel.queue_declare(queue, durable=True, arguments=QUORUM)
        channel.queue_bind(queue, LENDING_EXCHANGE, routing_key=routing_key)
    for queue, routing_keys in _DEPOSITORY_QUEUES.items():
        channel.queue_declare(queue, durable=True, arguments=QUORUM)
        for routing_key in routing_keys:
            channel.queue_bind(queue, GATEWAY_NOTIFY_EXCHANGE, routing_key=routing_key)
    channel.queue_declare(DEAD_LETTERS, durable=True, arguments=QUORUM)


def publish(channel, routing_key: str, body: dict, message_id: str) -> None:
    """Publish a persistent JSON message on ``lending.events`` (the channel is in confirm mode: this
    returns once the broker confirmed it)."""
    channel.basic_publish(LENDING_EXCHANGE, routing_key, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                          pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent,
                                               content_type="application/json", message_id=message_id))


class Malformed(Exception):
    """A message that can never be applied (not JSON, wrong fields): it goes to the dead letters."""


Handler = Callable[[dict, str], None]


@dataclass
class _Delivery:
    handler: Handler
    channel: object
    method: object
    properties: pika.BasicProperties
    body: bytes
    attempt: int = 0
    due: float = 0.0


class Consumer:
    """Consumes ``handlers`` (queue -> handler(message, message_id)) on one channel; ``idle()`` runs
    about every second between messages (the resend sweeps of the result consumers)."""

    def __init__(self, config: dict, name: str, handlers: dict[str, Handler], idle: Callable[[], None] | None = None):
        self.config, self.name, self.handlers, self.idle = config, name, handlers, idle
        self.waiting: list[_Delivery] = []
        self.next_idle = 0.0
        self.channel = None

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, reconnecting with back-off when the broker goes away."""
        backoff = Backoff(0.5, self.config["RETRY_MAX_MS"] / 1000)
        while not stop.is_set():
            try:
                self._consume(stop)
                backoff.reset()
            except (pika.exceptions.AMQPError, OSError) as exc:
                delay = backoff.next()
                log.warning("%s: broker connection lost (%s); reconnecting in %.1fs", self.name,
                            exc.__class__.__name__, delay)
                stop.wait(delay)

    def _consume(self, stop: threading.Event) -> None:
        connection = connect(self.config["AMQP_URL"], self.name)
        self.waiting = []  # unacked deliveries of a lost connection come again
        try:
            self.channel = connection.channel()
            declare(self.channel)
            self.channel.confirm_delivery()
            self.channel.basic_qos(prefetch_count=self.config["PREFETCH_COUNT"])
            for queue, handler in self.handlers.items():
                self.channel.basic_consume(queue, lambda ch, method, props, body, h=handler: self.waiting.append(
                    _Delivery(h, ch, method, props, body)))
            while not stop.is_set():
                connection.process_data_events(time_limit=0.5)
                self._apply_due(stop)
                self._idle_when_due()
        finally:
            if connection.is_open:
                connection.close()

    def _apply_due(self, stop: threading.Event) -> None:
        now, waiting, self.waiting = time.monotonic(), self.waiting, []
        for delivery in waiting:
            if delivery.due > now or stop.is_set():
                self.waiting.append(delivery)
            elif delivery.channel.is_open:
                self._apply(delivery)

    def _apply(self, delivery: _Delivery) -> None:
        message_id = delivery.properties.message_id or ""
        bind_request_id(message_id or None)
        try:
            delivery.handler(_json_object(delivery.body), message_id)
        except Malformed as exc:
            log.error("%s: message %s can never apply, dead-lettered: %s", self.name, message_id, exc,
                      extra={"fields": {"alert": "lending-dead-letter"}})
            headers = {**(delivery.properties.headers or {}), REASON_HEADER: str(exc)[:500],
                       "x-original-routing-key": delivery.method.routing_key}
            delivery.channel.basic_publish("", DEAD_LETTERS, delivery.body, pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent, content_type=delivery.properties.content_type,
                message_id=message_id, headers=headers))
        except Exception as exc:  # transient until proven otherwise: kept, tried again after a back-off
            delivery.attempt += 1
            delay = min(self.config["RETRY_BASE_MS"] * 2 ** (delivery.attempt - 1), self.config["RETRY_MAX_MS"]) / 1000
            delivery.due = time.monotonic() + delay
            log.warning("%s: message %s attempt %d failed (%s: %s); again in %.1fs", self.name, message_id,
                        delivery.attempt, exc.__class__.__name__, getattr(exc, "msg", exc), delay)
            self.waiting.append(delivery)
            return
        delivery.channel.basic_ack(delivery.method.delivery_tag)

    def _idle_when_due(self) -> None:
        if self.idle is None or time.monotonic() < self.next_idle:
            return
        self.next_idle = time.monotonic() + 1.0
        bind_request_id(None)
        try:
            self.idle()
        except Exception as exc:  # the sweep runs again in a second; the consumer must go on
            log.warning("%s: sweep failed: %s: %s", self.name, exc.__class__.__name__, getattr(exc, "msg", exc))


def _json_object(body: bytes) -> dict:
    message = json_object(body)
    if not message:
        raise Malformed("not a JSON object")
    return message
