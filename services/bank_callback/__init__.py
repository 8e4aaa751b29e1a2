"""bank-callback: the Huifu-style channel's callbacks and the crediting of confirmed recharges (docs/protocols.md)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE = "bank_callback"
