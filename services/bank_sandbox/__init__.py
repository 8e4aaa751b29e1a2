"""bank-sandbox: a simulated custodian bank speaking the wanxin depository and Huifu protocols (SPEC section 8)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE = "bank_sandbox"
