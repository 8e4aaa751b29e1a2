"""The outbox table is defined once (shared.outbox.COLUMNS): every service database that has one matches it."""
import importlib
import re
from pathlib import Path

import psycopg
import pytest

from shared.migrations import drop_database, migrate
from shared.outbox import COLUMNS, CLAIMED_COLUMNS, MESSAGE_COLUMNS, create_table_sql

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
# The services known to keep an outbox: a new one with an outbox is found and checked all the same.
KNOWN_OUTBOXES = {"depository_agent", "lending"}


def describe(url: str, table: str = "outbox") -> dict | None:
    """The table's columns, constraints and indexes, with its own names left out; None when it has none."""
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
            return None
        columns = conn.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)"
            " from pg_attribute a left join pg_attrdef d on (d.adrelid, d.adnum) = (a.attrelid, a.attnum)"
            " where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped", (table,)).fetchall()
        constraints = conn.execute("select contype, pg_get_constraintdef(oid) from pg_constraint"
                                   " where conrelid = %s::regclass", (table,)).fetchall()
        indexes = conn.execute("select pg_get_indexdef(indexrelid) from pg_index where indrelid = %s::regclass",
                               (table,)).fetchall()
    return {
        "columns": {name: (sql_type, not_null, re.sub(r"nextval\('[^']*'::regclass\)", "nextval(sequence)", default)
                           if default else None) for name, sql_type, not_null, default in columns},
        "constraints": sorted(constraints),
        "indexes": sorted(re.sub(r"INDEX \S+ ON \S+", "INDEX ON", definition) for (definition,) in indexes),
    }


@pytest.fixture(scope="module")
def reference(infra, tmp_path_factory):
    """The table exactly as shared.outbox defines it, in a database of its own."""
    url = infra.database_url("outbox_reference")
    folder = tmp_path_factory.mktemp("outbox_reference")
    (folder / "001_outbox.sql").write_text(create_table_sql())
    migrate(url, folder)
    yield describe(url)
    drop_database(url)


def _packages_with_migrations() -> list[str]:
    return sorted(path.parent.name for path in SERVICES_DIR.glob("*/migrations"))


def test_the_definition_names_every_column_the_code_reads_and_writes():
    assert set(MESSAGE_COLUMNS) <= set(COLUMNS) and set(CLAIMED_COLUMNS) <= set(COLUMNS)


def test_the_reference_table_is_what_the_definition_says(reference):
    assert list(reference["columns"]) == list(COLUMNS)
    assert reference["columns"]["sent_at"] == ("timestamp with time zone", False, None)
    assert reference["columns"]["message_id"][1] is True
    assert ("u", "UNIQUE (message_id)") in reference["constraints"]
    assert "CREATE INDEX ON USING btree (id) WHERE (sent_at IS NULL)" in reference["indexes"]


@pytest.mark.parametrize("package", _packages_with_migrations())
def test_every_service_outbox_matches_the_one_definition(infra, reference, package):
    importlib.import_module(package)
    found = describe(infra.migrated_database(package))
    if package in KNOWN_OUTBOXES:
        assert found is not None, f"{package} has no outbox table any more"
    if found is not None:
        assert found == reference, f"{package}'s outbox differs from shared.outbox.COLUMNS"
