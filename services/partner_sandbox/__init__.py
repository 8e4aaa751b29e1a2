"""partner-sandbox: a simulated lending partner (Rongshu) for development, demos and tests (SPEC section 11):
pushes signed orders to lending, serves their credit data, receives and verifies lending's callbacks."""
from pathlib import Path

DATABASE = "partner_sandbox"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
TEMPLATES_DIR = Path(__file__).parent / "templates"
