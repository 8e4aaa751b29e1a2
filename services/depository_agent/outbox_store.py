"""SQL on the agent's ``outbox`` table beyond :mod:`shared.outbox` (which writes and relays it)."""
import psycopg


def requeue(conn: psycopg.Connection, message_id: str) -> bool:
    """Make a sent message pending again so the relay publishes it once more; False when absent."""
    row = conn.execute("update outbox set sent_at = null where message_id = %s returning id", (message_id,)).fetchone()
    return row is not None
