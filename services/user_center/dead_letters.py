"""The dead-letter queue of gateway notifications: parking a message there, listing and replaying it.

The operator commands ``python -m user_center dlq list`` and ``dlq replay --all | <message_id>`` call
:func:`list_messages` and :func:`replay`, which moves messages back to ``user-center.gateway-notify`` with a fresh
attempt count and retry window (publisher-confirmed before the DLQ copy is acked, so nothing is lost).
"""
import time

import pika

from shared.messaging import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_QUEUE, connect, declare_gateway_notify

ATTEMPT_HEADER = "x-attempt"
ROUTING_KEY_HEADER = "x-original-routing-key"
REASON_HEADER = "x-last-error"
DEAD_AT_HEADER = "x-dead-lettered-at"
ATTEMPTS_HEADER = "x-attempts"
FIRST_FAILURE_HEADER = "x-first-failure-at"  # epoch seconds: retries stop NOTIFY_RETRY_HOURS after it
_DLQ_ONLY = (ATTEMPT_HEADER, FIRST_FAILURE_HEADER, REASON_HEADER, DEAD_AT_HEADER, ATTEMPTS_HEADER)


def copy_properties(properties: pika.BasicProperties, headers: dict) -> pika.BasicProperties:
    """The message's properties (id, type, persistence) with ``headers`` replacing its headers."""
    return pika.BasicProperties(content_type=properties.content_type or "application/json",
                                delivery_mode=pika.DeliveryMode.Persistent, message_id=properties.message_id,
                                headers=headers)


def publish_to_queue(channel, queue: str, properties: pika.BasicProperties, body: bytes, headers: dict) -> None:
    """Publish straight to ``queue``; the channel is in confirm mode, so this returns once the broker has it."""
    channel.basic_publish("", queue, body, copy_properties(properties, headers), mandatory=True)


def dead_letter(channel, properties, body: bytes, routing_key: str, attempts: int, reason: str) -> None:
    """Park a message in the DLQ with why and after how many attempts."""
    headers = {**(properties.headers or {}), ROUTING_KEY_HEADER: routing_key, ATTEMPTS_HEADER: attempts,
               REASON_HEADER: reason[:500], DEAD_AT_HEADER: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    headers.pop(ATTEMPT_HEADER, None)
    publish_to_queue(channel, GATEWAY_NOTIFY_DLQ, properties, body, headers)


def _drain(channel):
    """Every message of the DLQ, unacked (they return to the queue when the channel closes)."""
    while True:
        method, properties, body = channel.basic_get(GATEWAY_NOTIFY_DLQ, auto_ack=False)
        if method is None:
            return
        yield method, properties, body


def list_messages(config: dict) -> list[dict]:
    """The DLQ's messages as dicts (``message_id, routing_key, attempts, reason, dead_lettered_at, body``)."""
    connection = connect(config["AMQP_URL"], "user-center-dlq")
    try:
        channel = connection.channel()
        declare_gateway_notify(channel)
        return [{"message_id": properties.message_id, "routing_key": (properties.headers or {}).get(ROUTING_KEY_HEADER),
                 "attempts": (properties.headers or {}).get(ATTEMPTS_HEADER),
                 "reason": (properties.headers or {}).get(REASON_HEADER),
                 "dead_lettered_at": (properties.headers or {}).get(DEAD_AT_HEADER),
                 "body": body.decode("utf-8", "replace")}
                for _, properties, body in _drain(channel)]
    finally:
        connection.close()


def replay(config: dict, message_id: str | None) -> int:
    """Move the DLQ's messages (all, or those with ``message_id``) back to the main queue; how many moved."""
    connection = connect(config["AMQP_URL"], "user-center-dlq")
    moved = 0
    try:
        channel = connection.channel()
        declare_gateway_notify(channel)
        channel.confirm_delivery()
        for method, properties, body in list(_drain(channel)):
            if message_id is not None and properties.message_id != message_id:
                continue
            headers = {key: value for key, value in (properties.headers or {}).items() if key not in _DLQ_ONLY}
            publish_to_queue(channel, GATEWAY_NOTIFY_QUEUE, properties, body, headers)
            channel.basic_ack(method.delivery_tag)
            moved += 1
    finally:
        connection.close()
    return moved
