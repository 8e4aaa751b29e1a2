"""user-center: users, tokens, depository accounts, recharge/withdraw records and balances (docs/user_center.md)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
STATIC_DIR = Path(__file__).parent / "static"
DATABASE = "user_center"
TEMPLATES_DIR = Path(__file__).parent / "templates"
