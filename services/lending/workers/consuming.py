"""Running a lending consumer: its dependencies built once, its handlers bound to them."""
import threading
from typing import Callable

from lending.bootstrap import Dependencies, build
from lending.messages import Consumer


def consume(name: str, config: dict, stop: threading.Event,
            handlers: dict[str, Callable[[Dependencies, dict], None]],
            idle: Callable[[Dependencies], None] | None = None) -> None:
    """Consume ``handlers`` (queue -> handler(deps, message)) until ``stop`` is set."""
    deps = build(config, name)
    try:
        bound = {queue: (lambda message, _id, handle=handle: handle(deps, message)) for queue, handle in handlers.items()}
        Consumer(deps.config, name, bound, idle=(lambda: idle(deps)) if idle else None).run(stop)
    finally:
        deps.close()
