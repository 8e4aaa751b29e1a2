"""repay-result consumer: settles the results of the repayments' depository calls (freeze, cancel,
CONFIRM_REPAYMENT) from ``lending.repay-results``: periods paid, the borrow 40/41 once all are, the
repay.result callback. Between messages it sends again the repayment calls still without a final
result (a freshly frozen repayment's confirmation among them). ``python -m lending.workers.repay_result``."""
from lending.workers import REPAY_RESULTS, results_main

main = results_main("lending.repay-result", REPAY_RESULTS, "repay")

if __name__ == "__main__":
    main()
