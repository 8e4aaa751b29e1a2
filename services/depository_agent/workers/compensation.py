"""Compensation worker: settles requests stuck at status 0 from the bank's answers.

Run as ``python -m depository_agent.workers.compensation``. Each round runs one pass over due
records and retries the due exceptions, then sleeps COMPENSATION_POLL_SECONDS.
"""
import logging
import threading

import psycopg
from psycopg_pool import PoolTimeout

from shared.db import create_pool
from shared.workers import run_worker

from depository_agent.bank_query import BankQuery
from depository_agent.compensation import Compensator
from depository_agent.config import load
from depository_agent.wanxin import WanxinCodec

log = logging.getLogger(__name__)


def build_compensator(config: dict) -> Compensator:
    """A compensator over its own connection pool (refusing weak keys in production)."""
    codec = WanxinCodec(config)
    codec.check_keys_in_production()
    return Compensator(create_pool(config, "depository-agent.compensation"), codec, BankQuery(config), config)


def serve(config: dict, stop: threading.Event) -> None:
    """Compensation rounds until ``stop`` is set."""
    compensator = build_compensator(config)
    while not stop.is_set():
        try:
            outcomes = compensator.run_pass() + compensator.retry_exceptions()
            if outcomes:
                log.info("compensation round: %s", dict(outcomes))
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning("compensation round skipped, database unavailable: %s", exc)
        stop.wait(config["COMPENSATION_POLL_SECONDS"])
    compensator.pool.close()


def main() -> None:
    run_worker("depository-agent.compensation", load(), serve)


if __name__ == "__main__":
    main()
