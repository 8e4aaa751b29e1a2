"""The notifier: ``python -m bank_sandbox.workers.notifier`` sends queued notifications until SIGTERM.

Several may run side by side: each claims and leases deliveries (:mod:`bank_sandbox.delivery`), and
a SIGKILL loses nothing, the delivery in hand being due again when its lease ends.
"""
import logging
import threading

import requests
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from shared.workers import run_worker

from bank_sandbox.bootstrap import Dependencies, build
from bank_sandbox.config import seconds
from bank_sandbox.delivery import run_once

NAME = "bank-sandbox-notifier"
log = logging.getLogger("bank_sandbox.notifier")


def serve(deps: Dependencies, stop: threading.Event) -> None:
    """Loop: one pass over due deliveries, then sleep when there was nothing to do, until ``stop``."""
    session = requests.Session()
    poll = seconds(deps.config, "NOTIFIER_POLL_SECONDS")
    try:
        while not stop.is_set():
            try:
                made = run_once(deps.pool, deps.config, session, stop)
            except (OperationalError, PoolTimeout) as exc:
                log.warning("database unavailable, retrying: %s", exc)
                made = 0
            if not made:
                stop.wait(poll)
    finally:
        deps.close()


def main() -> None:
    deps = build(name=NAME)
    run_worker(NAME, deps.config, lambda config, stop: serve(deps, stop))


if __name__ == "__main__":
    main()
