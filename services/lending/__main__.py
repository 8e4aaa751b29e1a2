"""Operator commands: ``python -m lending --help`` (migrate, keys, borrows reject, penalties waive,
callbacks list|retry, postings retry, anomalies list)."""
from shared.cli import build_cli, run

from lending import DATABASE, MIGRATIONS_DIR
from lending.config import load
from lending.operator import COMMANDS

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
