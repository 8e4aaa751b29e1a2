"""The exceptions an operator must look at (``depository_exception``): list them, close one once handled.

Checking a COMPENSATION_FAILED one again now is :meth:`compensation.Compensator.retry`.
"""
from psycopg_pool import ConnectionPool

from shared.db import unit_of_work

from depository_agent.repository import exceptions


def listing(pool: ConnectionPool, include_resolved: bool = False) -> list[dict]:
    """Exceptions, oldest first; only the open ones unless ``include_resolved``."""
    with unit_of_work(pool) as conn:
        return exceptions.listing(conn, include_resolved=include_resolved)


def resolve(pool: ConnectionPool, exception_id: int, note: str) -> dict | None:
    """Close an open exception with what was done; None when it does not exist or is already resolved."""
    with unit_of_work(pool) as conn:
        return exceptions.resolve(conn, exception_id, note)
