"""RabbitMQ: connections and the platform's topology, declared idempotently by every user of it.

Queues are quorum queues so that a RabbitMQ cluster replicates them. The exchange and queue names are
:mod:`shared.contract`'s (re-exported here for the services that import them from this module); the
messages are described in docs/protocols.md.
"""
import pika
import pika.exceptions

from shared.contract import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_EXCHANGE, GATEWAY_NOTIFY_QUEUE, GATEWAY_SERVICES

__all__ = ["GATEWAY_NOTIFY_DLQ", "GATEWAY_NOTIFY_EXCHANGE", "GATEWAY_NOTIFY_QUEUE", "QUORUM", "connect",
           "declare_gateway_notify", "ping", "queue_depths"]
QUORUM = {"x-queue-type": "quorum"}


class NeverApplies(Exception):
    """A message that can never be applied (not JSON, fields missing, contradicting what is known): its
    consumer dead-letters it at once instead of trying it again."""


def connect(amqp_url: str, name: str) -> pika.BlockingConnection:
    """A blocking connection named after the process, with heartbeats so dead peers are noticed."""
    params = pika.URLParameters(amqp_url)
    params.heartbeat = 30
    params.blocked_connection_timeout = 60
    params.client_properties = {"connection_name": name}
    return pika.BlockingConnection(params)


def declare_gateway_notify(channel) -> None:
    """The topic exchange the agent publishes bank results to, and user-center's queue and DLQ."""
    channel.exchange_declare(GATEWAY_NOTIFY_EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(GATEWAY_NOTIFY_QUEUE, durable=True, arguments=QUORUM)
    # user-center applies the gateway services' results only; lending binds its own queue to the
    # transaction services'. A binding to every key ("#", made by earlier versions) is removed.
    for service_name in GATEWAY_SERVICES:
        channel.queue_bind(GATEWAY_NOTIFY_QUEUE, GATEWAY_NOTIFY_EXCHANGE, routing_key=service_name)
    channel.queue_unbind(GATEWAY_NOTIFY_QUEUE, GATEWAY_NOTIFY_EXCHANGE, routing_key="#")
    channel.queue_declare(GATEWAY_NOTIFY_DLQ, durable=True, arguments=QUORUM)


def queue_depths(amqp_url: str, name: str, queues=(GATEWAY_NOTIFY_QUEUE, GATEWAY_NOTIFY_DLQ),
                 timeout: float = 2.0) -> dict[str, int]:
    """Ready messages in each of ``queues``, by name (passive declares on a short-lived connection that
    gives up after ``timeout`` seconds; a queue not declared yet counts 0)."""
    params = pika.URLParameters(amqp_url)
    params.connection_attempts, params.socket_timeout = 1, timeout
    params.blocked_connection_timeout = params.stack_timeout = timeout
    params.client_properties = {"connection_name": name}
    connection = pika.BlockingConnection(params)
    depths = {}
    try:
        for queue in queues:
            channel = connection.channel()
            try:
                depths[queue] = channel.queue_declare(queue, passive=True).method.message_count
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:  # 404: nobody declared it yet
                depths[queue] = 0
    finally:
        connection.close()
    return depths


def ping(amqp_url: str) -> None:
    """Raise unless the broker accepts a connection."""
    connect(amqp_url, "readyz").close()
