"""Operator commands: ``python -m bank_callback --help``."""
from shared.cli import build_cli, run

from bank_callback import DATABASE, MIGRATIONS_DIR
from bank_callback.commands import COMMANDS
from bank_callback.config import load

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
