"""The rule-set credit engine: decides credit.request and audit.request messages and publishes the
decisions (confirmed before the request is acked). A real engine can take its place on the same
queues. ``python -m lending.workers.credit_engine``."""
import json
import threading

import pika

from shared.contract import AUDIT_DECISION, AUDIT_REQUESTS, CREDIT_DECISION, CREDIT_REQUESTS, LENDING_EXCHANGE
from shared.messaging import NeverApplies
from shared.workers import run_worker

from lending import credit_engine, schedules
from lending.config import load
from lending.workers import Consumer


def publish(channel, routing_key: str, body: dict, message_id: str) -> None:
    """Publish a persistent JSON message on ``lending.events`` (the channel is in confirm mode: this
    returns once the broker confirmed it)."""
    channel.basic_publish(LENDING_EXCHANGE, routing_key, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                          pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent,
                                               content_type="application/json", message_id=message_id))


def serve(config: dict, stop: threading.Event) -> None:
    rules = credit_engine.CreditRules.from_config(config)
    consumer = Consumer(config, "lending.credit-engine", {})

    def credit(request: dict, message_id: str) -> None:
        if not isinstance(request.get("orderNo"), str):
            raise NeverApplies("a credit request needs orderNo")
        decision = credit_engine.decide_credit(rules, schedules.today(config), request)
        publish(consumer.channel, CREDIT_DECISION, decision, f"{CREDIT_DECISION}:{request['orderNo']}")

    def review(request: dict, message_id: str) -> None:
        if not isinstance(request.get("borrowNo"), str):
            raise NeverApplies("an audit request needs borrowNo")
        decision = credit_engine.decide_review(rules, schedules.today(config), request)
        publish(consumer.channel, AUDIT_DECISION, decision, f"{AUDIT_DECISION}:{request['borrowNo']}")

    consumer.handlers = {CREDIT_REQUESTS: credit, AUDIT_REQUESTS: review}
    consumer.run(stop)


def main() -> None:
    run_worker("lending.credit-engine", load(), serve)


if __name__ == "__main__":
    main()
