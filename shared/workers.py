"""What every worker process shares: JSON logs, a clean stop on SIGTERM or SIGINT, and its start and
stop in the log."""
import logging
import signal
import threading
from typing import Callable

from shared.logs import configure_logging


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so that a loop finishes its current step and exits cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def run_worker(name: str, config: dict, serve: Callable[[dict, threading.Event], None]) -> None:
    """Log as ``name`` and run ``serve(config, stop)``; SIGTERM or SIGINT sets ``stop``, and ``serve``
    returns once its current step is done."""
    configure_logging(name, config["LOG_LEVEL"])
    log = logging.getLogger(name)
    stop = stop_on_signals()  # before "started": a process that says it started also stops cleanly
    log.info("started")
    serve(config, stop)
    log.info("stopped")
