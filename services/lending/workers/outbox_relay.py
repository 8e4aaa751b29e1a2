"""Outbox relay: publishes lending's outbox rows (credit and audit requests) to ``lending.events`` with
publisher confirms; any number may run. ``python -m lending.workers.outbox_relay``."""
import os

from shared.outbox import OutboxRelay
from shared.workers import run_worker

from lending.config import load
from lending.workers import declare


def build_relay(config: dict) -> OutboxRelay:
    return OutboxRelay(
        config["DATABASE_URL"], config["AMQP_URL"], name=f"lending.outbox-relay:{os.getpid()}", declare=declare,
        batch_size=config["OUTBOX_BATCH_SIZE"], poll_interval=config["OUTBOX_POLL_MS"] / 1000,
        confirm_timeout=config["OUTBOX_CONFIRM_TIMEOUT_SECONDS"], retention_s=config["OUTBOX_RETENTION_HOURS"] * 3600)


def main() -> None:
    run_worker("lending.outbox-relay", load(), lambda config, stop: build_relay(config).run(stop))


if __name__ == "__main__":
    main()
