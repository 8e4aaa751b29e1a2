"""loan-result consumer (the seed's RongshuLoanResultProcessor and RepayPlanProcessor): settles the
results of the disbursement's depository calls (project, freeze, cancel, CONFIRM_LOAN) from
``lending.loan-results``; a confirmed loan is disbursed (30) with its plan and the loan.succeeded
callback. Between messages it sends again the loan calls still without a final result.
``python -m lending.workers.loan_result``."""
from shared.workers import run_worker

from lending import settlement
from lending.config import load
from lending.messages import LOAN_RESULTS
from lending.workers.consuming import consume


def main() -> None:
    run_worker("lending.loan-result", load(), lambda config, stop: consume(
        "lending.loan-result", config, stop,
        {LOAN_RESULTS: lambda deps, message: settlement.apply_result_message(deps, message, "loan")},
        idle=lambda deps: settlement.resend_due(deps, "loan")))


if __name__ == "__main__":
    main()
