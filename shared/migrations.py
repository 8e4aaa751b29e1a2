"""Plain SQL migrations: each service keeps ``NNN_name.sql`` files, applied once, in order, and may keep
its live functions and triggers in ``sql/`` (``create or replace``), applied after the migrations on every
migrate, so that each is defined in exactly one place.

Applied versions are recorded in ``schema_migrations``; an advisory lock lets several
processes start at once without applying a file twice.
"""
import logging
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

log = logging.getLogger(__name__)
_LOCK_KEY = 424242


def ensure_database(database_url: str) -> None:
    """Create the database named in ``database_url`` when it does not exist yet."""
    params = conninfo_to_dict(database_url)
    name = params["dbname"]
    admin = make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another process created it a moment ago


def drop_database(database_url: str) -> None:
    """Drop the database named in ``database_url``, closing its sessions (test teardown)."""
    name = conninfo_to_dict(database_url)["dbname"]
    admin = make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def migrate(database_url: str, migrations_dir: Path, sql_dir: Path | None = None) -> list[str]:
    """Apply every pending migration in ``migrations_dir``, then every file of ``sql_dir``; return the
    versions applied now.

    ``sql_dir`` holds the live functions and triggers (``create or replace``), applied in name order in one
    transaction on every call, so that a database always runs the definitions of the code that migrated it
    last. By default it is the ``sql`` folder beside ``migrations_dir`` (the services' layout), if any.
    """
    if sql_dir is None:
        sql_dir = Path(migrations_dir).parent / "sql"
    ensure_database(database_url)
    applied_now = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "create table if not exists schema_migrations ("
                " version text primary key, applied_at timestamptz not null default now())"
            )
            done = {row[0] for row in conn.execute("select version from schema_migrations")}
            for path in sorted(Path(migrations_dir).glob("*.sql")):
                if path.stem in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text(encoding="utf-8"))
                    conn.execute("insert into schema_migrations (version) values (%s)", (path.stem,))
                log.info("applied migration %s", path.stem)
                applied_now.append(path.stem)
            _apply_live_sql(conn, Path(sql_dir))
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def _apply_live_sql(conn: psycopg.Connection, sql_dir: Path) -> None:
    """Every ``*.sql`` file of ``sql_dir`` (none when it does not exist), in name order, in one transaction."""
    files = sorted(sql_dir.glob("*.sql"))
    if not files:
        return
    with conn.transaction():
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))
    log.info("applied %d live SQL file(s) of %s", len(files), sql_dir)
