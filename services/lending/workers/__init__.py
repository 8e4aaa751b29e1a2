"""lending's worker processes, one module each (``python -m lending.workers.<name>``), and the two loops they
run: a polling job (:func:`job_main`) and a queue consumer (:func:`consumer_main`, :class:`Consumer`).

RabbitMQ: exchange ``lending.events`` (topic) carries the credit engine's traffic (``shared.contract``):
``credit.request`` and ``audit.request`` (written by lending through its outbox), ``credit.decision`` and
``audit.decision`` (published by the engine). The depository agent's results arrive on
``depository.gateway-notify`` with routing key = serviceName: ``lending.loan-results`` and
``lending.repay-results`` are bound to exactly the transaction services each one settles.

A job makes a pass, then another at once while passes find work, else pauses JOB_POLL_MS. A pass that
fails (database or a peer down) is logged and tried again after the pause: jobs only ever act through
conditional transitions, so a pass cut short leaves nothing half done that the next pass does not pick up.

A consumer acks a message only after its handler committed. A handler raising
:class:`shared.messaging.NeverApplies` (a message that can never apply) sends it to
``lending.dead-letters`` (confirmed) before the ack; any other failure is transient: the message is kept
and tried again after a capped back-off, never dead-lettered, while other messages go on.
"""
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import pika
import pika.exceptions

from shared.backoff import backoff
from shared.contract import (AUDIT_DECISION, AUDIT_REQUEST, AUDIT_REQUESTS, CANCEL_PRE_TRANSACTION, CONFIRM_LOAN,
                             CONFIRM_REPAYMENT, CREATE_PROJECT, CREDIT_DECISION, CREDIT_REQUEST, CREDIT_REQUESTS,
                             GATEWAY_NOTIFY_EXCHANGE, LENDING_EXCHANGE, MODIFY_PROJECT, PRE_TRANSACTION)
from shared.http import json_object
from shared.logs import bind_request_id
from shared.messaging import QUORUM, NeverApplies, connect
from shared.workers import run_worker

from lending import call_settlement
from lending.bootstrap import Dependencies, build
from lending.config import load

log = logging.getLogger(__name__)

CREDIT_RESULTS = "lending.credit-results"
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
IDLE_SECONDS = 1.0  # how often a consumer's idle sweep runs between messages


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


# --- jobs -----------------------------------------------------------------------------------------------

def run_job(name: str, config: dict, stop: threading.Event, step: Callable[[Dependencies], int],
            pause_ms: int | None = None) -> None:
    """Run ``step(deps)`` until ``stop`` is set; ``step`` returns how much it did."""
    job_log = logging.getLogger(name)
    deps = build(config, name)
    pause = (pause_ms if pause_ms is not None else deps.config["JOB_POLL_MS"]) / 1000
    try:
        while not stop.is_set():
            bind_request_id(None)
            try:
                done = step(deps)
            except Exception as exc:  # any failure: the pass is tried again after the pause
                job_log.warning("pass failed: %s: %s", exc.__class__.__name__, getattr(exc, "msg", exc))
                done = 0
            if not done:
                stop.wait(pause)
    finally:
        deps.close()


def job_main(name: str, step: Callable[[Dependencies], int], pause_setting: str | None = None) -> Callable[[], None]:
    """The ``main()`` of a job's worker process: ``step`` run by :func:`run_job` under
    :func:`shared.workers.run_worker`, pausing JOB_POLL_MS (or the ``pause_setting`` in seconds)."""
    def main() -> None:
        run_worker(name, load(), lambda config, stop: run_job(
            name, config, stop, step, pause_ms=config[pause_setting] * 1000 if pause_setting else None))
    return main


# --- consumers ------------------------------------------------------------------------------------------

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
        failures = 0
        while not stop.is_set():
            try:
                self._consume(stop)
                failures = 0
            except (pika.exceptions.AMQPError, OSError) as exc:
                failures += 1
                delay = backoff(failures, self.config["RETRY_BASE_MS"] / 1000, self.config["RETRY_MAX_MS"] / 1000)
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
            message = json_object(delivery.body)
            if not message:
                raise NeverApplies("not a JSON object")
            delivery.handler(message, message_id)
        except NeverApplies as exc:
            log.error("%s: message %s can never apply, dead-lettered: %s", self.name, message_id, exc,
                      extra={"fields": {"alert": "lending-dead-letter"}})
            headers = {**(delivery.properties.headers or {}), REASON_HEADER: str(exc)[:500],
                       "x-original-routing-key": delivery.method.routing_key}
            delivery.channel.basic_publish("", DEAD_LETTERS, delivery.body, pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent, content_type=delivery.properties.content_type,
                message_id=message_id, headers=headers))
        except Exception as exc:  # transient until proven otherwise: kept, tried again after a back-off
            delivery.attempt += 1
            delay = backoff(delivery.attempt, self.config["RETRY_BASE_MS"] / 1000, self.config["RETRY_MAX_MS"] / 1000)
            delivery.due = time.monotonic() + delay
            log.warning("%s: message %s attempt %d failed (%s: %s); again in %.1fs", self.name, message_id,
                        delivery.attempt, exc.__class__.__name__, getattr(exc, "msg", exc), delay)
            self.waiting.append(delivery)
            return
        delivery.channel.basic_ack(delivery.method.delivery_tag)

    def _idle_when_due(self) -> None:
        if self.idle is None or time.monotonic() < self.next_idle:
            return
        self.next_idle = time.monotonic() + IDLE_SECONDS
        bind_request_id(None)
        try:
            self.idle()
        except Exception as exc:  # the sweep runs again in a second; the consumer must go on
            log.warning("%s: sweep failed: %s: %s", self.name, exc.__class__.__name__, getattr(exc, "msg", exc))


def consume(name: str, config: dict, stop: threading.Event,
            handlers: dict[str, Callable[[Dependencies, dict], None]],
            idle: Callable[[Dependencies], None] | None = None) -> None:
    """Consume ``handlers`` (queue -> handler(deps, message)) until ``stop`` is set, with the dependencies
    built once."""
    deps = build(config, name)
    try:
        bound = {queue: (lambda message, _id, handle=handle: handle(deps, message))
                 for queue, handle in handlers.items()}
        Consumer(deps.config, name, bound, idle=(lambda: idle(deps)) if idle else None).run(stop)
    finally:
        deps.close()


def consumer_main(name: str, handlers: dict[str, Callable[[Dependencies, dict], None]],
                  idle: Callable[[Dependencies], None] | None = None) -> Callable[[], None]:
    """The ``main()`` of a consumer's worker process."""
    return lambda: run_worker(name, load(), lambda config, stop: consume(name, config, stop, handlers, idle))


def results_main(name: str, queue: str, domain: str) -> Callable[[], None]:
    """The ``main()`` of a depository-results consumer: settles ``domain``'s calls from ``queue`` and,
    between messages, sends again that domain's calls still without a final result."""
    return consumer_main(name, {queue: lambda deps, message: call_settlement.apply_result_message(
        deps, message, domain)}, idle=lambda deps: call_settlement.resend_due(deps, domain))
