"""Outbox relay: publishes the agent's outbox rows to ``depository.gateway-notify`` with confirms.

Run as ``python -m depository_agent.workers.outbox_relay``; any number may run side by side.
"""
from shared.workers import run_worker

from depository_agent.bootstrap import build_relay
from depository_agent.config import load


def main() -> None:
    run_worker("depository-agent.outbox-relay", load(), lambda config, stop: build_relay(config).run(stop))


if __name__ == "__main__":
    main()
