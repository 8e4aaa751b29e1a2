"""audit-result consumer (the seed's RongshuAuditResultProcessor): the risk review's decision moves the
borrow 0 -> 10, then 27 with a loan.rejected callback (7003), or creates the project at the bank
(10 -> 20 once it is created). ``python -m lending.workers.audit_result``."""
from shared.workers import run_worker

from lending import disbursement, settlement
from lending.config import load
from lending.messages import AUDIT_RESULTS
from lending.workers.consuming import consume


def apply(deps, decision: dict) -> None:
    settlement.send_all(deps, disbursement.apply_review(deps, decision))


def main() -> None:
    run_worker("lending.audit-result", load(), lambda config, stop: consume(
        "lending.audit-result", config, stop, {AUDIT_RESULTS: apply}))


if __name__ == "__main__":
    main()
