"""Commands: ``python -m partner_sandbox --help`` (migrate, keys)."""
from shared.cli import build_cli, run

from partner_sandbox import DATABASE, MIGRATIONS_DIR
from partner_sandbox.config import load

main = build_cli(DATABASE, load, MIGRATIONS_DIR)

if __name__ == "__main__":
    run(main)
