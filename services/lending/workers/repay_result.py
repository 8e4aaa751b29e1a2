"""repay-result consumer: settles the results of the repayments' depository calls (freeze, cancel,
CONFIRM_REPAYMENT) from ``lending.repay-results``: periods paid, the borrow 40/41 once all are, the
repay.result callback. Between messages it sends again the repayment calls still without a final
result (a freshly frozen repayment's confirmation among them). ``python -m lending.workers.repay_result``."""
from shared.workers import run_worker

from lending import settlement
from lending.config import load
from lending.messages import REPAY_RESULTS
from lending.workers.consuming import consume


def main() -> None:
    run_worker("lending.repay-result", load(), lambda config, stop: consume(
        "lending.repay-result", config, stop,
        {REPAY_RESULTS: lambda deps, message: settlement.apply_result_message(deps, message, "repay")},
        idle=lambda deps: settlement.resend_due(deps, "repay")))


if __name__ == "__main__":
    main()
