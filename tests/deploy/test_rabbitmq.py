"""deploy/rabbitmq/definitions.json declares exactly the topology the code declares, so importing it
into a cluster beforehand never conflicts with the services' own idempotent declarations."""
import json

from shared import messaging
from tests.deploy.layout import REPO

from lending import workers as lending_workers


class RecordingChannel:
    """Collects what the services' declare functions ask the broker for, in the definitions format."""

    def __init__(self):
        self.exchanges, self.queues, self.bindings = [], [], []

    def exchange_declare(self, name, exchange_type, durable):
        if any(exchange["name"] == name for exchange in self.exchanges):
            return  # declared again, identically, by another service: one exchange
        self.exchanges.append({"name": name, "vhost": "/", "type": exchange_type, "durable": durable,
                               "auto_delete": False, "internal": False, "arguments": {}})

    def queue_declare(self, name, durable, arguments):
        self.queues.append({"name": name, "vhost": "/", "durable": durable, "auto_delete": False,
                            "arguments": dict(arguments)})

    def queue_bind(self, queue, exchange, routing_key):
        self.bindings.append({"source": exchange, "vhost": "/", "destination": queue, "destination_type": "queue",
                              "routing_key": routing_key, "arguments": {}})

    def queue_unbind(self, queue, exchange, routing_key):
        self.bindings = [binding for binding in self.bindings if (binding["destination"], binding["source"],
                                                                   binding["routing_key"]) != (queue, exchange, routing_key)]


def test_definitions_match_the_declared_topology():
    definitions = json.loads((REPO / "deploy" / "rabbitmq" / "definitions.json").read_text())
    channel = RecordingChannel()
    messaging.declare_gateway_notify(channel)
    lending_workers.declare(channel)
    assert definitions == {"exchanges": channel.exchanges, "queues": channel.queues, "bindings": channel.bindings}


def test_every_queue_is_a_quorum_queue():
    definitions = json.loads((REPO / "deploy" / "rabbitmq" / "definitions.json").read_text())
    assert definitions["queues"]
    for queue in definitions["queues"]:
        assert queue["arguments"]["x-queue-type"] == "quorum" and queue["durable"], queue["name"]
