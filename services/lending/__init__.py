"""lending: the Rongshu big-loan channel: partner orders, credit, disbursement and repayment through the
depository, repayment plans, overdue handling and partner callbacks (docs/lending.md)."""
from pathlib import Path

DATABASE = "lending"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
TEMPLATES_DIR = Path(__file__).parent / "templates"
