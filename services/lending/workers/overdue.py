"""overdue (the seed's RongshuOverdueProcessor): unpaid periods past due + GRACE_DAYS become overdue with
their penalty, with a repay.overdue callback; runs every OVERDUE_POLL_SECONDS (idempotent, daily in
effect). ``python -m lending.workers.overdue``."""
from lending import overdue
from lending.workers import job_main


def mark(deps) -> int:
    """One full pass; it reports no work left, so the job always waits OVERDUE_POLL_SECONDS (overdue
    periods stay overdue, and the next pass only refreshes them)."""
    overdue.mark_overdue(deps)
    return 0


main = job_main("lending.overdue", mark, pause_setting="OVERDUE_POLL_SECONDS")

if __name__ == "__main__":
    main()
