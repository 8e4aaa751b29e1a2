"""received_callbacks, callback_deliveries and the fault knobs."""
from psycopg.types.json import Jsonb


def count_delivery(conn, event_id: str) -> int:
    """Count one more delivery of ``event_id``; returns how many there have been, this one included."""
    return conn.execute("insert into callback_deliveries (event_id, deliveries) values (%s, 1) on conflict (event_id)"
                        " do update set deliveries = callback_deliveries.deliveries + 1 returning deliveries",
                        (event_id,)).fetchone()["deliveries"]


def store(conn, event_id: str, event: str, order_no: str, biz: dict) -> bool:
    """Keep a verified callback; a repeat of its eventId only counts. True for the first."""
    first = conn.execute("insert into received_callbacks (event_id, event, order_no, biz) values (%s, %s, %s, %s)"
                         " on conflict (event_id) do nothing", (event_id, event, order_no, Jsonb(biz))).rowcount == 1
    if not first:
        conn.execute("update received_callbacks set repeats = repeats + 1, last_received_at = now()"
                     " where event_id = %s", (event_id,))
    return first


def of_order(conn, order_no: str) -> list[dict]:
    return conn.execute("select * from received_callbacks where order_no = %s order by received_at",
                        (order_no,)).fetchall()


def recent(conn, limit: int) -> list[dict]:
    return conn.execute("select * from received_callbacks order by received_at desc limit %s", (limit,)).fetchall()


def faults(conn) -> dict | None:
    return conn.execute("select fail_first, delay_ms from faults where id = 1").fetchone()


def set_faults(conn, fail_first: int, delay_ms: int) -> None:
    conn.execute("insert into faults (id, fail_first, delay_ms) values (1, %s, %s) on conflict (id)"
                 " do update set fail_first = excluded.fail_first, delay_ms = excluded.delay_ms, updated_at = now()",
                 (fail_first, delay_ms))
