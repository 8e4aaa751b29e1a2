"""user-center: users, tokens, depository accounts, recharge/withdraw records and balances (SPEC section 4)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
STATIC_DIR = Path(__file__).parent / "static"
DATABASE = "user_center"
