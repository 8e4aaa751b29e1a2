"""bank-sandbox: a simulated custodian bank speaking the wanxin depository and Huifu protocols
(docs/bank_sandbox.md). Its layout is the one of docs/architecture.md. The freeze is the live database function
of sql/01_freeze.sql; the tallies of what freezes hold and the checks at commit that frozen balances equal
them are the trigger functions of migrations 003 and 004 (the triggers that use them are created there)."""
from pathlib import Path

DATABASE = "bank_sandbox"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
