"""Compensation worker: settles requests stuck at status 0 from the bank's answers.

Run as ``python -m depository_agent.workers.compensation``. Each round runs one pass over due
records and retries the due exceptions, then sleeps COMPENSATION_POLL_SECONDS.
"""
import logging
import threading

import psycopg
from psycopg_pool import PoolTimeout

from shared.workers import run_worker

from depository_agent.bootstrap import build
from depository_agent.config import load

log = logging.getLogger(__name__)


def serve(config: dict, stop: threading.Event) -> None:
    """Compensation rounds until ``stop`` is set (refusing weak keys in production)."""
    deps = build(config, "depository-agent.compensation")
    while not stop.is_set():
        try:
            outcomes = deps.compensator.run_pass() + deps.compensator.retry_exceptions()
            if outcomes:
                log.info("compensation round: %s", dict(outcomes))
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning("compensation round skipped, database unavailable: %s", exc)
        stop.wait(config["COMPENSATION_POLL_SECONDS"])
    deps.close()


def main() -> None:
    run_worker("depository-agent.compensation", load(), serve)


if __name__ == "__main__":
    main()
