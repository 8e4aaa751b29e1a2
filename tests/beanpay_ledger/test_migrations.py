"""The ledger's schema: a database migrated by the code before sql/ existed upgrades to exactly what a fresh
database gets (the same functions, triggers, constraints and types, nothing superseded left behind), its
books intact, and every migrate re-applies the live SQL."""
import shutil
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

import psycopg
import pytest

from beanpay_ledger import MIGRATIONS_DIR, SQL_DIR
from shared.migrations import drop_database, migrate
from tests.beanpay_ledger.invariants import assert_invariants

# The last commit whose migrations defined the functions and triggers themselves (before sql/).
BEFORE_SQL_DIR = "004f432fdb731595f3345772da677ce20557fb6a"
ROOT = Path(__file__).resolve().parents[2]


def _old_migrations(target: Path) -> Path:
    """The ledger's migrations as they were at :data:`BEFORE_SQL_DIR`, extracted into ``target``."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git history of the repository")
    archive = subprocess.run(["git", "archive", BEFORE_SQL_DIR, "services/beanpay_ledger/migrations"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "services" / "beanpay_ledger" / "migrations"


def _catalog(url: str) -> dict:
    """Every function, trigger, constraint, column and type of the database's public schema, as SQL text."""
    with psycopg.connect(url) as conn:
        def rows(query: str) -> list:
            return [row for row in conn.execute(query)]
        return {
            "functions": rows("select p.oid::regprocedure::text, pg_get_functiondef(p.oid) from pg_proc p"
                              " join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'"
                              " order by 1"),
            "triggers": rows("select tgrelid::regclass::text, tgname, pg_get_triggerdef(t.oid) from pg_trigger t"
                             " where not tgisinternal order by 1, 2"),
            "constraints": rows("select conrelid::regclass::text, conname, pg_get_constraintdef(c.oid)"
                                " from pg_constraint c join pg_namespace n on n.oid = c.connamespace"
                                " where n.nspname = 'public' order by 1, 2"),
            "columns": rows("select table_name, column_name, data_type, is_nullable, column_default"
                            " from information_schema.columns where table_schema = 'public'"
                            " and table_name <> 'schema_migrations' order by 1, ordinal_position"),
            "indexes": rows("select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1"),
            "options": rows("select relname, reloptions::text from pg_class c join pg_namespace n"
                            " on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r' order by 1"),
        }


@pytest.fixture
def databases(infra):
    urls = [infra.database_url(f"ledger_{name}") for name in ("upgraded", "fresh")]
    yield urls
    for url in urls:
        drop_database(url)


def _old_books(conn: psycopg.Connection) -> None:
    """Postings of every kind through the functions of the code before sql/ (their old signatures)."""
    conn.execute("select account_open(e, 'old', '', 1000) from unnest(array['old_a', 'old_b', 'old_locked']) e")
    conn.execute("select * from ledger_post_batch(array[1, 2, 3, 2, 1, 2]::int2[],"
                 " array['old_a', 'old_a', 'old_a', 'old_b', 'old_b', 'old_b']::text[],"
                 " array['a1', 'd1', 'd1', 'd2', 'a2', 'd3']::text[], array[500, 200, 50, 150, 10, 5]::int8[])")
    conn.execute("select * from ledger_release('old_a', 'held', 70)")
    conn.execute("select account_set_status('old_locked', 1::int2)")
    conn.execute("select package_open('old_a', 'pkg', 'p', 10, 3, current_date + 30)")
    conn.execute("select package_post(2::int2, 'old_a', 'pkg', 'u1', 2)")


def test_a_database_migrated_before_sql_existed_upgrades_to_the_fresh_schema(databases, tmp_path):
    upgraded, fresh = databases
    migrate(upgraded, _old_migrations(tmp_path), sql_dir=tmp_path / "none")
    with psycopg.connect(upgraded, autocommit=True) as conn:
        _old_books(conn)
    assert "005_postings_as_rows" in migrate(upgraded, MIGRATIONS_DIR, SQL_DIR)
    migrate(fresh, MIGRATIONS_DIR, SQL_DIR)
    old, new = _catalog(upgraded), _catalog(fresh)
    for part in new:
        assert old[part] == new[part], part
    assert "ledger_post_batch(smallint[],text[],text[],bigint[])" not in {name for name, _ in new["functions"]}

    with psycopg.connect(upgraded, autocommit=True) as conn:
        assert_invariants(conn)
        post = "select outcome, record::json ->> 'balance' from ledger_post_batch(ledger_postings(%s::json))"
        answers = conn.execute(post, ('[{"change_type": 1, "eid": "old_a", "trade_no": "a1", "amount": 500},'
                                      ' {"change_type": 3, "eid": "old_b", "trade_no": "d2", "amount": 150},'
                                      ' {"change_type": 2, "eid": "old_a", "trade_no": "held", "amount": 70},'
                                      ' {"change_type": 2, "eid": "old_locked", "trade_no": "x", "amount": 1},'
                                      ' {"change_type": 1, "eid": "old_b", "trade_no": "a3", "amount": 1}]',)).fetchall()
        # the replay answers its original record (balance 500 then); old_b: -150 + 10 - 5, +150 refunded, +1
        assert answers == [("replay", "500"), ("posted", "5"), ("released", None), ("locked", None),
                           ("posted", "6")]
        assert conn.execute("select outcome from package_post(3::int2, 'old_a', 'pkg', 'u1', 2)").fetchone() == (
            "posted",)
        assert_invariants(conn)


def test_every_migrate_applies_the_live_sql_again(databases):
    url, _ = databases
    migrate(url, MIGRATIONS_DIR, SQL_DIR)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop function ledger_release(text, text, bigint)")  # as if an operator had dropped it
    assert migrate(url, MIGRATIONS_DIR) == []  # nothing pending; sql/ (beside migrations/) is applied anyway
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select outcome from ledger_release('nobody', 't', 5)").fetchone() == ("posted",)
