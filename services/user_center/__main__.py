"""Operator commands: ``python -m user_center --help`` (migrate, dlq list|replay, holds list|release,
requests sweep)."""
from shared.cli import build_cli, run

from user_center import DATABASE, MIGRATIONS_DIR
from user_center.commands import HOLDS_COMMAND, REQUESTS_COMMAND
from user_center.config import load
from user_center.dead_letters import DLQ_COMMAND

main = build_cli(DATABASE, load, MIGRATIONS_DIR,
                 {"dlq": DLQ_COMMAND, "holds": HOLDS_COMMAND, "requests": REQUESTS_COMMAND})

if __name__ == "__main__":
    run(main)
