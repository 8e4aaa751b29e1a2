"""PostgreSQL access: one connection pool per process, and a unit of work around it."""
from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def create_pool(config: dict, name: str, autocommit: bool = False) -> ConnectionPool:
    """A pool that opens lazily in the background: creating it never blocks on the database.

    ``autocommit`` suits services whose every call is one self-contained statement. Each
    connection is checked as it leaves the pool, so that after a database restart or a terminated
    session the next request gets a fresh connection instead of an error.
    """
    pool = ConnectionPool(
        config["DATABASE_URL"],
        min_size=config["DB_POOL_MIN"],
        max_size=config["DB_POOL_MAX"],
        kwargs={"row_factory": dict_row, "application_name": name, "autocommit": autocommit},
        name=name,
        open=False,
        timeout=10,
        check=ConnectionPool.check_connection,
    )
    pool.open(wait=False)
    return pool


@contextmanager
def unit_of_work(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A connection inside one transaction: committed when the block ends cleanly, rolled back otherwise."""
    with pool.connection() as conn:
        with conn.transaction():
            yield conn


def ping(pool: ConnectionPool) -> None:
    """Raise unless the database answers a trivial query."""
    with pool.connection(timeout=2) as conn:
        conn.execute("select 1")
