"""disburse: starts every approved borrow and every failed disbursement whose retry is due (20/31 -> 13),
with a TENDER freeze from a funder. ``python -m lending.workers.disburse``."""
from shared.workers import run_worker

from lending import disbursement, settlement
from lending.config import load
from lending.jobs import run_job


def disburse(deps) -> int:
    started = disbursement.start_due(deps)
    settlement.send_all(deps, started)
    return len(started)


def main() -> None:
    run_worker("lending.disburse", load(), lambda config, stop: run_job("lending.disburse", config, stop, disburse))


if __name__ == "__main__":
    main()
