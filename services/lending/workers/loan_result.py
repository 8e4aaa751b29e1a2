"""loan-result consumer (the seed's RongshuLoanResultProcessor and RepayPlanProcessor): settles the
results of the disbursement's depository calls (project, freeze, cancel, CONFIRM_LOAN) from
``lending.loan-results``; a confirmed loan is disbursed (30) with its plan and the loan.succeeded
callback. Between messages it sends again the loan calls still without a final result.
``python -m lending.workers.loan_result``."""
from lending.workers import LOAN_RESULTS, results_main

main = results_main("lending.loan-result", LOAN_RESULTS, "loan")

if __name__ == "__main__":
    main()
