"""Worker: ``python -m bank_callback.workers.netsave_crediter`` credits confirmed recharges until SIGTERM.

Idle passes wait CREDIT_POLL_MS; while the ledger or the database is unreachable the wait
doubles up to CREDIT_MAX_BACKOFF_MS. Nothing is lost on SIGKILL: an interrupted batch rolls back
and the next pass replays it against the idempotent ledger.
"""
import logging
import threading

from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from shared.workers import run_worker

from bank_callback import config as callback_config
from bank_callback.bootstrap import build
from bank_callback.crediting import NetsaveCrediter

log = logging.getLogger("bank_callback.netsave_crediter")


def run(config: dict, stop: threading.Event) -> None:
    """Run passes until ``stop`` is set."""
    deps = build(config, "netsave-crediter")
    crediter = NetsaveCrediter.from_config(deps.config, deps.pool, deps.ledger)
    idle = config["CREDIT_POLL_MS"] / 1000
    delay = idle
    try:
        while not stop.is_set():
            try:
                trouble = crediter.run_once().ledger_down
            except (OperationalError, PoolTimeout) as exc:
                log.warning("database unavailable; retrying: %s", exc)
                trouble = True
            except Exception:  # an unexpected answer must not end the worker; the batch rolled back
                log.exception("crediting pass failed; retrying")
                trouble = True
            delay = min(delay * 2, config["CREDIT_MAX_BACKOFF_MS"] / 1000) if trouble else idle
            stop.wait(delay)
    finally:
        deps.close()


def main() -> None:
    run_worker("netsave-crediter", callback_config.load(), run)


if __name__ == "__main__":
    main()
