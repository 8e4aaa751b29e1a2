"""Connections for the ledger's one-statement calls.

Every ledger operation is a single SQL statement (a PL/pgSQL function doing the whole posting),
so connections run in autocommit: one round trip per call, no BEGIN/COMMIT around it.
"""
from contextlib import contextmanager
from typing import Iterator

import psycopg
from flask import current_app


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """A pooled connection of the current app (the ledger's pool runs in autocommit mode)."""
    with current_app.extensions["db"].connection() as conn:
        yield conn


def fetch(query: str, params: tuple) -> tuple | None:
    """The first row of ``query`` as a tuple (prepared on the server from the first call)."""
    with connection() as conn:
        with conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
            return cursor.execute(query, params, prepare=True).fetchone()
