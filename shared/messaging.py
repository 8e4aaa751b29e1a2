"""RabbitMQ: connections and the platform's topology, declared idempotently by every user of it.

Queues are quorum queues so that a RabbitMQ cluster replicates them.
"""
import pika

GATEWAY_NOTIFY_EXCHANGE = "depository.gateway-notify"
GATEWAY_NOTIFY_QUEUE = "user-center.gateway-notify"
GATEWAY_NOTIFY_DLQ = "user-center.gateway-notify.dlq"
QUORUM = {"x-queue-type": "quorum"}


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
    channel.queue_bind(GATEWAY_NOTIFY_QUEUE, GATEWAY_NOTIFY_EXCHANGE, routing_key="#")
    channel.queue_declare(GATEWAY_NOTIFY_DLQ, durable=True, arguments=QUORUM)


def ping(amqp_url: str) -> None:
    """Raise unless the broker accepts a connection."""
    connect(amqp_url, "readyz").close()
