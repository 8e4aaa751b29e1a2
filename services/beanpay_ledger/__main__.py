"""Operator commands: ``python -m beanpay_ledger --help``.

``migrate [--database-url URL]`` creates the ledger's tables and functions in the ledger's own database, or in
any database named by URL: a program that uses the ledger as a library (README.md) keeps them in its own.
"""
import argparse

from shared.cli import build_cli, run
from shared.migrations import migrate

from beanpay_ledger import DATABASE, MIGRATIONS_DIR, SQL_DIR
from beanpay_ledger.config import load


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="the database to migrate (default: DATABASE_URL, the ledger's own)")


def _migrate(config: dict, args: argparse.Namespace) -> int:
    applied = migrate(args.database_url or config["DATABASE_URL"], MIGRATIONS_DIR, SQL_DIR)
    print(f"{DATABASE}: {len(applied)} migration(s) applied" + (f": {', '.join(applied)}" if applied else "")
          + "; functions and triggers up to date")
    return 0


COMMANDS = {"migrate": ("create the database if needed, apply pending migrations and the live SQL functions",
                        _migrate_arguments, _migrate)}

main = build_cli(DATABASE, load, MIGRATIONS_DIR, COMMANDS)

if __name__ == "__main__":
    run(main)
