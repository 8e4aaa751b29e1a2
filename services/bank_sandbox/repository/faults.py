"""fault_settings: the knobs stored by POST /sandbox/faults (one row, or none)."""
from psycopg.types.json import Jsonb


def get(conn) -> dict | None:
    row = conn.execute("select settings from fault_settings where id = 1").fetchone()
    return row["settings"] if row else None


def put(conn, settings: dict) -> None:
    conn.execute(
        "insert into fault_settings (id, settings) values (1, %s)"
        " on conflict (id) do update set settings = excluded.settings, updated_at = now()",
        (Jsonb(settings),),
    )


def clear(conn) -> None:
    conn.execute("delete from fault_settings")
