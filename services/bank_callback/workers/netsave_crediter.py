"""Worker: ``python -m bank_callback.workers.netsave_crediter`` credits confirmed recharges until SIGTERM.

Idle passes wait CREDIT_POLL_MS; while the ledger or the database is unreachable the wait
doubles (shared.backoff) up to CREDIT_MAX_BACKOFF_MS. Nothing is lost on SIGKILL: the claims end
with the process's sessions, the rows stay open, and the next pass replays their postings against
the idempotent ledger.
"""
import logging
import threading
from contextlib import closing

from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from shared.backoff import backoff
from shared.workers import run_worker

from bank_callback import config as callback_config
from bank_callback.bootstrap import build
from bank_callback.crediting import NetsaveCrediter

log = logging.getLogger("bank_callback.netsave_crediter")


def run(config: dict, stop: threading.Event) -> None:
    """Run passes until ``stop`` is set."""
    with closing(build(config, "netsave-crediter")) as deps:
        crediter = NetsaveCrediter.from_config(deps.config, deps.pool, deps.ledger)
        idle = config["CREDIT_POLL_MS"] / 1000
        failures = 0
        while not stop.is_set():
            try:
                trouble = crediter.run_once().ledger_down
            except (OperationalError, PoolTimeout) as exc:
                log.warning("database unavailable; retrying: %s", exc)
                trouble = True
            except Exception:  # an unexpected answer must not end the worker; the batch's rows stay open
                log.exception("crediting pass failed; retrying")
                trouble = True
            failures = failures + 1 if trouble else 0
            # After the k-th failed pass in a row the wait is idle * 2**k (capped): the first one doubles it.
            stop.wait(backoff(failures + 1, idle, config["CREDIT_MAX_BACKOFF_MS"] / 1000) if failures else idle)


def main() -> None:
    run_worker("netsave-crediter", callback_config.load(), run)


if __name__ == "__main__":
    main()
