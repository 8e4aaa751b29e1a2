"""bank-sandbox: a simulated custodian bank speaking the wanxin depository and Huifu protocols
(docs/bank_sandbox.md). Its layout is the one of docs/architecture.md; its one database function, the
check that frozen balances equal what their freezes hold, is defined by migration 003 (no sql/ directory)."""
from pathlib import Path

DATABASE = "bank_sandbox"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
