"""PostgreSQL access: one connection pool per process, and a unit of work around it."""
import select
from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def create_pool(config: dict, name: str, autocommit: bool = False) -> ConnectionPool:
    """A pool that opens lazily in the background: creating it never blocks on the database.

    ``autocommit`` suits services whose every call is one self-contained statement. Each
    connection is checked as it leaves the pool (:func:`check_ended_by_server`), so that after a
    database restart or a terminated session the next request gets a fresh connection instead of an
    error.
    """
    pool = ConnectionPool(
        config["DATABASE_URL"],
        min_size=config["DB_POOL_MIN"],
        max_size=config["DB_POOL_MAX"],
        kwargs={"row_factory": dict_row, "application_name": name, "autocommit": autocommit},
        name=name,
        open=False,
        timeout=10,
        check=check_ended_by_server,
    )
    pool.open(wait=False)
    return pool


def check_ended_by_server(conn: psycopg.Connection) -> None:
    """Raise if the server ended this idle connection; the pool then replaces it.

    A server that ends a session (restart, ``pg_terminate_backend``, idle timeout) sends an error and
    closes the socket, so an idle connection with something to read is the one to check with a round
    trip. One with nothing to read is handed out without that round trip, which would otherwise cost
    every checkout (every group of postings or notifications) a query.
    """
    if conn.closed:
        ConnectionPool.check_connection(conn)  # raises
        return
    readable = select.poll()  # poll, not select: no limit on the descriptor's number
    readable.register(conn.fileno(), select.POLLIN)
    if readable.poll(0):
        ConnectionPool.check_connection(conn)


@contextmanager
def unit_of_work(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A connection inside one transaction: committed when the block ends cleanly, rolled back otherwise."""
    with pool.connection() as conn:
        with conn.transaction():
            yield conn


@contextmanager
def single_statement(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A connection in autocommit for one statement that is a transaction of its own (a database function
    doing a whole unit of work): one round trip, without BEGIN and COMMIT. The connection's mode is restored."""
    with pool.connection() as conn:
        autocommit = conn.autocommit
        conn.autocommit = True
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.autocommit = autocommit


def ping(pool: ConnectionPool) -> None:
    """Raise unless the database answers a trivial query."""
    with pool.connection(timeout=2) as conn:
        conn.execute("select 1")
