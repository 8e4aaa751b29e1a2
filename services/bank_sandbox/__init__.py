"""bank-sandbox: a simulated custodian bank speaking the wanxin depository and Huifu protocols
(docs/bank_sandbox.md). Its layout is the one of docs/architecture.md; it has no live SQL functions."""
from pathlib import Path

DATABASE = "bank_sandbox"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
