"""overdue (the seed's RongshuOverdueProcessor): unpaid periods past due + GRACE_DAYS become overdue with
their penalty, with a repay.overdue callback; runs every OVERDUE_POLL_SECONDS (idempotent, daily in
effect). ``python -m lending.workers.overdue``."""
from shared.workers import run_worker

from lending import overdue
from lending.config import load
from lending.jobs import run_job


def mark(deps) -> int:
    """One full pass; it reports no work left, so the job always waits OVERDUE_POLL_SECONDS (overdue
    periods stay overdue, and the next pass only refreshes them)."""
    overdue.mark_overdue(deps)
    return 0


def main() -> None:
    run_worker("lending.overdue", load(), lambda config, stop: run_job(
        "lending.overdue", config, stop, mark, pause_ms=config["OVERDUE_POLL_SECONDS"] * 1000))


if __name__ == "__main__":
    main()
