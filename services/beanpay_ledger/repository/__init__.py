"""The ledger's SQL: one statement per call, each a function of sql/ that does the whole operation.

Every function takes the caller's psycopg connection: the service's pooled ones (autocommit: a call is its
own transaction) or a program's own, inside its own transaction (the library mode, README.md). Rows are
read as tuples whatever the connection's row factory.
"""
import psycopg
from psycopg.rows import tuple_row


def fetch_one(conn: psycopg.Connection, query: str, params: tuple) -> tuple | None:
    """The first row of ``query`` as a tuple, or None."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        return cursor.execute(query, params).fetchone()


def fetch_all(conn: psycopg.Connection, query: str, params: tuple) -> list[tuple]:
    """Every row of ``query`` as tuples."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        return cursor.execute(query, params).fetchall()
