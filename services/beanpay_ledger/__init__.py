"""beanpay-ledger: wallet accounts and service packages with idempotent postings (docs/protocols.md)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE = "beanpay_ledger"
