"""The migration runner and the connection pool against the real PostgreSQL."""
import threading
import time

import psycopg
import pytest

from shared.migrations import drop_database, migrate


@pytest.fixture
def scratch_db(infra):
    url = infra.database_url("migration_scratch")
    yield url
    drop_database(url)


def test_applies_once_in_order(scratch_db, tmp_path):
    (tmp_path / "001_create.sql").write_text("create table t (id int primary key);")
    (tmp_path / "002_seed.sql").write_text("insert into t values (1);")
    assert migrate(scratch_db, tmp_path) == ["001_create", "002_seed"]
    assert migrate(scratch_db, tmp_path) == []
    (tmp_path / "003_more.sql").write_text("insert into t values (2);")
    assert migrate(scratch_db, tmp_path) == ["003_more"]
    with psycopg.connect(scratch_db) as conn:
        assert conn.execute("select count(*) from t").fetchone()[0] == 2
        versions = [r[0] for r in conn.execute("select version from schema_migrations order by applied_at, version")]
    assert versions == ["001_create", "002_seed", "003_more"]


def test_live_sql_is_applied_after_the_migrations_on_every_migrate(scratch_db, tmp_path):
    migrations, live = tmp_path / "migrations", tmp_path / "sql"
    migrations.mkdir()
    live.mkdir()
    (migrations / "001_create.sql").write_text("create table t (id int primary key);")
    (live / "01_count.sql").write_text("create or replace function t_count() returns bigint language sql"
                                       " as $$ select count(*) from t $$;")  # needs the table: after the migrations
    (live / "02_twice.sql").write_text("create or replace function t_twice() returns bigint language sql"
                                       " as $$ select 2 * t_count() $$;")  # needs 01: in name order
    assert migrate(scratch_db, migrations) == ["001_create"]  # sql/ beside migrations/ by default
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        assert conn.execute("select t_twice()").fetchone() == (0,)
        conn.execute("drop function t_twice()")
    (live / "01_count.sql").write_text("create or replace function t_count() returns bigint language sql"
                                       " as $$ select count(*) + 1 from t $$;")
    assert migrate(scratch_db, migrations, live) == []
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        assert conn.execute("select t_twice()").fetchone() == (2,)  # both re-applied, the new definition live


def test_live_sql_that_fails_changes_nothing(scratch_db, tmp_path):
    live = tmp_path / "sql"
    live.mkdir()
    (live / "01_f.sql").write_text("create or replace function f() returns int language sql as $$ select 1 $$;")
    migrate(scratch_db, tmp_path / "migrations", live)
    (live / "01_f.sql").write_text("create or replace function f() returns int language sql as $$ select 2 $$;")
    (live / "02_bad.sql").write_text("create or replace function g() returns int language sql as $$ select x $$;")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        migrate(scratch_db, tmp_path / "migrations", live)
    with psycopg.connect(scratch_db, autocommit=True) as conn:
        assert conn.execute("select f()").fetchone() == (1,)  # one transaction: 01 rolled back with 02


def test_failed_migration_rolls_back_and_is_not_recorded(scratch_db, tmp_path):
    (tmp_path / "001_ok.sql").write_text("create table t (id int primary key);")
    (tmp_path / "002_bad.sql").write_text("insert into t values (1); insert into t values (1);")
    with pytest.raises(psycopg.errors.UniqueViolation):
        migrate(scratch_db, tmp_path)
    with psycopg.connect(scratch_db) as conn:
        assert conn.execute("select count(*) from t").fetchone()[0] == 0
        assert [r[0] for r in conn.execute("select version from schema_migrations")] == ["001_ok"]


def test_concurrent_runners_apply_each_file_once(scratch_db, tmp_path):
    (tmp_path / "001_create.sql").write_text("create table t (id int primary key);")
    (tmp_path / "002_seed.sql").write_text("insert into t values (1);")
    results, errors = [], []

    def run():
        try:
            results.append(migrate(scratch_db, tmp_path))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(v for applied in results for v in applied) == ["001_create", "002_seed"]


def test_pool_replaces_terminated_connections(scratch_db, tmp_path):
    """After the server ends every session, the pool's next checkout is a working connection."""
    from shared.db import create_pool, unit_of_work

    (tmp_path / "001_create.sql").write_text("create table t (id int primary key);")
    migrate(scratch_db, tmp_path)
    pool = create_pool({"DATABASE_URL": scratch_db, "DB_POOL_MIN": 2, "DB_POOL_MAX": 2}, "pool-test")
    try:
        pool.wait(timeout=10)
        with psycopg.connect(scratch_db, autocommit=True) as admin:
            _terminate_others(admin)
        for value in (1, 2, 3):
            with unit_of_work(pool) as conn:
                conn.execute("insert into t values (%s)", (value,))
        with psycopg.connect(scratch_db) as conn:
            assert conn.execute("select count(*) from t").fetchone()[0] == 3
    finally:
        pool.close()


def _terminate_others(admin: psycopg.Connection) -> None:
    """End every other session of the database and wait until they are gone (the server ends a
    session asynchronously, after ``pg_terminate_backend`` answers)."""
    pids = [row[0] for row in admin.execute("select pid from pg_stat_activity where datname = current_database()"
                                            " and pid <> pg_backend_pid()").fetchall()]
    admin.execute("select pg_terminate_backend(pid) from unnest(%s::int[]) pid", (pids,))
    for _ in range(100):
        if not admin.execute("select count(*) from pg_stat_activity where pid = any(%s)", (pids,)).fetchone()[0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"sessions {pids} still there")


def test_the_checkout_check_passes_a_live_connection_and_refuses_an_ended_one(scratch_db, tmp_path):
    """``check_ended_by_server``: an idle live connection passes without a query; one the server ended,
    or one closed here, raises, so the pool replaces it."""
    from shared.db import check_ended_by_server

    migrate(scratch_db, tmp_path)  # creates the empty database

    with psycopg.connect(scratch_db, autocommit=True) as conn, psycopg.connect(scratch_db, autocommit=True) as admin:
        assert conn.execute("select 'last statement'").fetchone() == ("last statement",)
        check_ended_by_server(conn)
        seen = admin.execute("select query from pg_stat_activity where pid = %s", (conn.info.backend_pid,)).fetchone()
        assert seen == ("select 'last statement'",)  # the check sent nothing
        _terminate_others(admin)
        with pytest.raises(psycopg.OperationalError):
            check_ended_by_server(conn)
    closed = psycopg.connect(scratch_db)
    closed.close()
    with pytest.raises(psycopg.OperationalError):
        check_ended_by_server(closed)
