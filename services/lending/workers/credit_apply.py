"""credit-apply: asks the credit engine (a credit.request message through the outbox); 10 -> 11.
``python -m lending.workers.credit_apply``."""
from shared.workers import run_worker

from lending import pipeline
from lending.config import load
from lending.jobs import run_job


def main() -> None:
    run_worker("lending.credit-apply", load(),
               lambda config, stop: run_job("lending.credit-apply", config, stop, pipeline.apply_credit))


if __name__ == "__main__":
    main()
