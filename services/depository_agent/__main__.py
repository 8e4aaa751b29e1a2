"""Operator commands: ``python -m depository_agent --help``."""
from shared.cli import build_cli, run

from depository_agent import DATABASE, MIGRATIONS_DIR
from depository_agent.config import load
from depository_agent.operator import COMMANDS

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
