"""The platform's RabbitMQ topology on the real broker: user-center's queue takes the gateway services'
results only, never another service's (lending's transaction results have their own queues)."""
import json

import pika

from shared.contract import CONFIRM_LOAN, GATEWAY_NOTIFY_EXCHANGE, GATEWAY_NOTIFY_QUEUE, GATEWAY_SERVICES
from shared.messaging import connect, declare_gateway_notify


def _publish(channel, routing_key: str) -> None:
    channel.basic_publish(GATEWAY_NOTIFY_EXCHANGE, routing_key, json.dumps({"serviceName": routing_key}).encode(),
                          pika.BasicProperties(delivery_mode=2), mandatory=False)


def _drain(channel) -> list[str]:
    keys = []
    while True:
        method, _, _ = channel.basic_get(GATEWAY_NOTIFY_QUEUE, auto_ack=True)
        if method is None:
            return keys
        keys.append(method.routing_key)


def test_user_center_queue_takes_only_the_gateway_services_even_after_an_earlier_catch_all(infra):
    connection = connect(infra.amqp_url, "test-topology")
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        declare_gateway_notify(channel)
        channel.queue_bind(GATEWAY_NOTIFY_QUEUE, GATEWAY_NOTIFY_EXCHANGE, routing_key="#")  # as once declared
        declare_gateway_notify(channel)  # a new version's start removes it
        _drain(channel)
        for key in (*GATEWAY_SERVICES, CONFIRM_LOAN, "USER_AUTO_PRE_TRANSACTION"):
            _publish(channel, key)
        assert sorted(_drain(channel)) == sorted(GATEWAY_SERVICES)
    finally:
        connection.close()
