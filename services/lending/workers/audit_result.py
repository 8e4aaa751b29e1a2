"""audit-result consumer (the seed's RongshuAuditResultProcessor): the risk review's decision moves the
borrow 0 -> 10, then 27 with a loan.rejected callback (7003), or creates the project at the bank
(10 -> 20 once it is created). ``python -m lending.workers.audit_result``."""
from lending import call_settlement, disbursement
from lending.workers import AUDIT_RESULTS, consumer_main


def apply(deps, decision: dict) -> None:
    call_settlement.send_all(deps, disbursement.apply_review(deps, decision))


main = consumer_main("lending.audit-result", {AUDIT_RESULTS: apply})

if __name__ == "__main__":
    main()
