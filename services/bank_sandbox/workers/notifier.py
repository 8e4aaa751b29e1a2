"""The notifier: ``python -m bank_sandbox.workers.notifier`` sends queued notifications until SIGTERM.

Several may run side by side (rows are claimed with ``skip locked``); a SIGKILL loses nothing
because a delivery is marked only in the transaction of its attempt.
"""
import logging
import threading

import requests
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from shared.db import create_pool
from shared.workers import run_worker

from bank_sandbox.config import load, seconds
from bank_sandbox.domain.delivery import run_once

log = logging.getLogger("bank_sandbox.notifier")


def serve(config: dict, stop: threading.Event) -> None:
    """Loop: one pass over due deliveries, then sleep when there was nothing to do, until ``stop``."""
    pool = create_pool(config, "bank-sandbox-notifier")
    session = requests.Session()
    poll = seconds(config, "NOTIFIER_POLL_SECONDS")
    try:
        while not stop.is_set():
            try:
                made = run_once(pool, config, session, stop)
            except (OperationalError, PoolTimeout) as exc:
                log.warning("database unavailable, retrying: %s", exc)
                made = 0
            if not made:
                stop.wait(poll)
    finally:
        pool.close()


def main() -> None:
    run_worker("bank-sandbox-notifier", load(), serve)


if __name__ == "__main__":
    main()
