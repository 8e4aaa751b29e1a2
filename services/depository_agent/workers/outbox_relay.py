"""Outbox relay: publishes the agent's outbox rows to ``depository.gateway-notify`` with confirms.

Run as ``python -m depository_agent.workers.outbox_relay``; any number may run side by side.
"""
import os

from shared.messaging import declare_gateway_notify
from shared.outbox import OutboxRelay
from shared.workers import run_worker

from depository_agent.config import load


def build_relay(config: dict) -> OutboxRelay:
    """The relay for the agent's ``outbox`` table."""
    return OutboxRelay(
        config["DATABASE_URL"], config["AMQP_URL"], name=f"depository-agent.outbox-relay:{os.getpid()}",
        declare=declare_gateway_notify, batch_size=config["OUTBOX_BATCH_SIZE"],
        poll_interval=config["OUTBOX_POLL_MS"] / 1000, confirm_timeout=config["OUTBOX_CONFIRM_TIMEOUT_SECONDS"],
        retention_s=config["OUTBOX_RETENTION_HOURS"] * 3600)


def main() -> None:
    run_worker("depository-agent.outbox-relay", load(), lambda config, stop: build_relay(config).run(stop))


if __name__ == "__main__":
    main()
