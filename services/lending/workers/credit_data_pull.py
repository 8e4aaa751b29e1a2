"""credit-data-pull (the seed's RongshuOperatorPullJob): pulls each pushed order's operator, credit-card
and device data from the partner; 0 -> 2. ``python -m lending.workers.credit_data_pull``."""
from shared.workers import run_worker

from lending import pipeline
from lending.config import load
from lending.jobs import run_job


def main() -> None:
    run_worker("lending.credit-data-pull", load(),
               lambda config, stop: run_job("lending.credit-data-pull", config, stop, pipeline.pull_credit_data))


if __name__ == "__main__":
    main()
