"""disburse: starts every approved borrow and every failed disbursement whose retry is due (20/31 -> 13),
with a TENDER freeze from a funder. ``python -m lending.workers.disburse``."""
from lending import call_settlement, disbursement
from lending.workers import job_main


def disburse(deps) -> int:
    started = disbursement.start_due(deps)
    call_settlement.send_all(deps, started)
    return len(started)


main = job_main("lending.disburse", disburse)

if __name__ == "__main__":
    main()
