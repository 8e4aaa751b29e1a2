"""credit-result consumer (the seed's RongshuCreditResultProcessor): 11 -> 12, or 4 with a
credit.rejected callback. ``python -m lending.workers.credit_result``."""
from shared.workers import run_worker

from lending import pipeline
from lending.config import load
from lending.messages import CREDIT_RESULTS
from lending.workers.consuming import consume


def main() -> None:
    run_worker("lending.credit-result", load(), lambda config, stop: consume(
        "lending.credit-result", config, stop, {CREDIT_RESULTS: pipeline.apply_credit_decision}))


if __name__ == "__main__":
    main()
