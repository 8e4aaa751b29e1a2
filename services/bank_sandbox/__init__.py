"""bank-sandbox: a simulated custodian bank speaking the wanxin depository and Huifu protocols (docs/protocols.md)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE = "bank_sandbox"
