"""order-parse (the seed's RongshuPushOrderJob): turns pulled credit data into features; 2 -> 10.
``python -m lending.workers.order_parse``."""
from shared.workers import run_worker

from lending import pipeline
from lending.config import load
from lending.jobs import run_job


def main() -> None:
    run_worker("lending.order-parse", load(),
               lambda config, stop: run_job("lending.order-parse", config, stop, pipeline.parse_orders))


if __name__ == "__main__":
    main()
