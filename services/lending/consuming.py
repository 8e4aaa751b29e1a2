"""Running a lending consumer: its dependencies built once, its handlers bound to them."""
import threading
from typing import Callable

from shared.workers import run_worker

from lending import settlement
from lending.bootstrap import Dependencies, build
from lending.config import load
from lending.messages import Consumer


def consume(name: str, config: dict, stop: threading.Event,
            handlers: dict[str, Callable[[Dependencies, dict], None]],
            idle: Callable[[Dependencies], None] | None = None) -> None:
    """Consume ``handlers`` (queue -> handler(deps, message)) until ``stop`` is set."""
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
    return consumer_main(name, {queue: lambda deps, message: settlement.apply_result_message(deps, message, domain)},
                         idle=lambda deps: settlement.resend_due(deps, domain))
