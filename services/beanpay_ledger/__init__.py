"""beanpay-ledger: wallet accounts and service packages with idempotent postings (SPEC section 7)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE = "beanpay_ledger"
