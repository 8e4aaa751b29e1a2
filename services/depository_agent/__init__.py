"""depository-agent: signs gateway requests, records bank results, relays them to RabbitMQ (docs/protocols.md)."""
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE = "depository_agent"
