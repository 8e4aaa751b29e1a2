"""beanpay-ledger: wallet accounts and service packages with idempotent postings (docs/beanpay_ledger.md)."""
from pathlib import Path

DATABASE = "beanpay_ledger"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQL_DIR = Path(__file__).parent / "sql"
