"""The rule-set credit engine: decides credit.request and audit.request messages and publishes the
decisions (confirmed before the request is acked). A real engine can take its place on the same
queues. ``python -m lending.workers.credit_engine``."""
import threading

from shared.workers import run_worker

from lending import clock, engine
from lending.config import load
from lending.credit_rules import CreditRules
from lending.messages import (AUDIT_DECISION, AUDIT_REQUESTS, CREDIT_DECISION, CREDIT_REQUESTS, Consumer,
                              Malformed, publish)


def serve(config: dict, stop: threading.Event) -> None:
    rules = CreditRules.from_config(config)
    consumer = Consumer(config, "lending.credit-engine", {})

    def credit(request: dict, message_id: str) -> None:
        if not isinstance(request.get("orderNo"), str):
            raise Malformed("a credit request needs orderNo")
        decision = engine.decide_credit(rules, clock.today(config), request)
        publish(consumer.channel, CREDIT_DECISION, decision, f"{CREDIT_DECISION}:{request['orderNo']}")

    def review(request: dict, message_id: str) -> None:
        if not isinstance(request.get("borrowNo"), str):
            raise Malformed("an audit request needs borrowNo")
        decision = engine.decide_review(rules, clock.today(config), request)
        publish(consumer.channel, AUDIT_DECISION, decision, f"{AUDIT_DECISION}:{request['borrowNo']}")

    consumer.handlers = {CREDIT_REQUESTS: credit, AUDIT_REQUESTS: review}
    consumer.run(stop)


def main() -> None:
    run_worker("lending.credit-engine", load(), serve)


if __name__ == "__main__":
    main()
