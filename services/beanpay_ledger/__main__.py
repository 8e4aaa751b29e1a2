"""Operator commands: ``python -m beanpay_ledger --help``."""
from shared.cli import build_cli, run

from beanpay_ledger import DATABASE, MIGRATIONS_DIR
from beanpay_ledger.config import load

main = build_cli(DATABASE, load, MIGRATIONS_DIR)

if __name__ == "__main__":
    run(main)
