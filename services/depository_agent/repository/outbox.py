"""SQL on the agent's ``outbox`` table beyond :mod:`shared.outbox` (which writes and relays it)."""
import psycopg


def requeue(conn: psycopg.Connection, message_id: str) -> bool:
    """Make a sent message pending again so the relay publishes it once more; False when absent."""
    row = conn.execute("update outbox set sent_at = null where message_id = %s returning id", (message_id,)).fetchone()
    return row is not None


def backlog(conn: psycopg.Connection) -> dict:
    """``unsent`` rows, ``unroutable`` ones among them (returned by the broker at least once) and ``lag``
    (seconds since the oldest unsent row was written; 0 when none)."""
    return conn.execute("select count(*) as unsent, count(*) filter (where returned > 0) as unroutable,"
                        " coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as lag"
                        " from outbox where sent_at is null").fetchone()
