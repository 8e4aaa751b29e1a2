"""GatewayNotifyConsumer: applies the bank results the agent publishes, exactly once.

``python -m user_center.workers.gateway_notify`` consumes ``user-center.gateway-notify`` with
manual acks, after its own commit. A transient failure (ledger or database unreachable) is
retried after a back-off: the message stays unacked while a timer of the connection's IO loop
waits (heartbeats keep flowing), then a copy with the next attempt number is published
(confirmed) and the original acked. After ``MAX_DELIVERY_ATTEMPTS`` the message goes to the DLQ,
published with confirms before the original is acked. Between messages, every HOLD_SWEEP_MS, the
loop also retries withdraw holds waiting to be released (:mod:`user_center.holds`). The worker reconnects with back-off when
RabbitMQ restarts and exits cleanly on SIGTERM.
"""
import functools
import logging
import signal
import time

import pika
import pika.exceptions

from shared.db import create_pool
from shared.ledger_client import LedgerClient
from shared.logs import bind_request_id, configure_logging
from shared.messaging import GATEWAY_NOTIFY_QUEUE, connect, declare_gateway_notify

from user_center import config as user_center_config
from user_center import notifications
from user_center.dead_letters import ATTEMPT_HEADER, ROUTING_KEY_HEADER, dead_letter, publish_to_queue
from user_center.holds import build_releaser

log = logging.getLogger("user_center.gateway_notify")


class GatewayNotifyConsumer:
    """The consume loop; ``stop()`` (the SIGTERM handler) makes ``run()`` return."""

    def __init__(self, config: dict):
        self.config = config
        self.pool = create_pool(config, "user-center-gateway-notify")
        self.ledger = LedgerClient(config["LEDGER_URL"], config, config["SERVICE_TIMEOUT_SECONDS"])
        self.stopping = False
        self.connection = None
        # after a transient failure, hold further messages back until the back-off ends, so a
        # dead ledger or database is not hit by every prefetched message in turn
        self.paused_until = 0.0
        self.releaser = build_releaser(config, self.pool)
        self.next_sweep = 0.0

    def stop(self, *_signal) -> None:
        self.stopping = True

    def run(self) -> None:
        """Consume until stopped, reconnecting with back-off whenever the broker goes away."""
        failures = 0
        while not self.stopping:
            try:
                self._consume()
                failures = 0
            except (pika.exceptions.AMQPError, OSError) as exc:
                failures += 1
                delay = min(0.5 * 2 ** (failures - 1), self.config["RECONNECT_MAX_SECONDS"])
                log.warning("RabbitMQ connection lost (%s); reconnecting in %.1fs", exc.__class__.__name__, delay)
                self._sleep(delay)
        self.pool.close()

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))

    def _consume(self) -> None:
        self.connection = connect(self.config["AMQP_URL"], "user-center-gateway-notify")
        try:
            channel = self.connection.channel()
            declare_gateway_notify(channel)
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.config["PREFETCH_COUNT"])
            channel.basic_consume(GATEWAY_NOTIFY_QUEUE, self._on_message)
            log.info("consuming %s", GATEWAY_NOTIFY_QUEUE)
            while not self.stopping:
                self.connection.process_data_events(time_limit=1)
                self._sweep_holds_when_due()
        finally:
            if self.connection.is_open:
                self.connection.close()  # unacked messages return to the queue

    def _sweep_holds_when_due(self) -> None:
        """Every HOLD_SWEEP_MS, retry the withdraw holds waiting to be released (see user_center.holds)."""
        now = time.monotonic()
        if now < self.next_sweep:
            return
        self.next_sweep = now + self.config["HOLD_SWEEP_MS"] / 1000
        try:
            outcomes = self.releaser.sweep()
        except Exception as exc:  # the sweep must never stop the consumer; it runs again next time
            log.warning("withdraw hold sweep failed: %s: %s", exc.__class__.__name__, getattr(exc, "msg", exc))
            return
        if outcomes:
            log.info("withdraw hold sweep: %s", dict(outcomes))

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        wait = self.paused_until - time.monotonic()
        if wait > 0:
            self.connection.call_later(wait, functools.partial(self._on_message, channel, method, properties, body))
            return
        if not channel.is_open:
            return
        headers = properties.headers or {}
        bind_request_id(str(headers.get("x-request-id") or properties.message_id or ""))
        attempt = _int(headers.get(ATTEMPT_HEADER), 1)
        routing_key = str(headers.get(ROUTING_KEY_HEADER) or method.routing_key)
        try:
            payload = notifications.parse(body, routing_key)
        except notifications.MalformedMessage as exc:
            log.error("malformed gateway notification %s: %s", properties.message_id, exc,
                      extra={"fields": {"alert": "gateway-notify-malformed"}})
            self._park(channel, method, properties, body, routing_key, attempt, f"malformed: {exc}")
            return
        try:
            notifications.apply(self.pool, self.ledger, payload, properties.message_id)
        except Exception as exc:  # transient until proven otherwise: retry, then dead-letter
            reason = f"{exc.__class__.__name__}: {getattr(exc, 'msg', exc)}"
            if attempt >= self.config["MAX_DELIVERY_ATTEMPTS"]:
                log.error("gateway notification %s failed %d times, dead-lettered: %s", properties.message_id,
                          attempt, reason, extra={"fields": {"alert": "gateway-notify-dead-lettered"}})
                self._park(channel, method, properties, body, routing_key, attempt, reason)
                return
            delay = self._backoff(attempt)
            self.paused_until = time.monotonic() + delay
            log.warning("gateway notification %s attempt %d failed (%s); retrying in %.2fs",
                        properties.message_id, attempt, reason, delay)
            self.connection.call_later(delay, functools.partial(
                self._retry, channel, method, properties, body, routing_key, attempt + 1))
            return
        channel.basic_ack(method.delivery_tag)

    def _backoff(self, attempt: int) -> float:
        return min(self.config["RETRY_BASE_MS"] * 2 ** (attempt - 1), self.config["RETRY_MAX_MS"]) / 1000

    def _retry(self, channel, method, properties, body: bytes, routing_key: str, attempt: int) -> None:
        """Requeue a copy carrying the next attempt number, then ack the original."""
        if not channel.is_open:
            return  # the broker redelivers the unacked original after the reconnect
        headers = {**(properties.headers or {}), ATTEMPT_HEADER: attempt, ROUTING_KEY_HEADER: routing_key}
        publish_to_queue(channel, GATEWAY_NOTIFY_QUEUE, properties, body, headers)
        channel.basic_ack(method.delivery_tag)

    @staticmethod
    def _park(channel, method, properties, body: bytes, routing_key: str, attempt: int, reason: str) -> None:
        dead_letter(channel, properties, body, routing_key, attempt, reason)
        channel.basic_ack(method.delivery_tag)


def _int(value, default: int) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return default


def main() -> None:
    """Run the consumer until SIGTERM or SIGINT."""
    config = user_center_config.load()
    configure_logging("user-center-gateway-notify", config["LOG_LEVEL"])
    consumer = GatewayNotifyConsumer(config)
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)
    consumer.run()
    log.info("stopped")


if __name__ == "__main__":
    main()
