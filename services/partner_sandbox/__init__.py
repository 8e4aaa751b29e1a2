"""partner-sandbox: a simulated lending partner (Rongshu) for development, demos and tests (docs/partner_sandbox.md):
pushes signed orders to lending, serves their credit data, receives and verifies lending's callbacks."""
from pathlib import Path

DATABASE = "partner_sandbox"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
TEMPLATES_DIR = Path(__file__).parent / "templates"
