"""partner_callbacks: the partner's callbacks, an outbox delivered until the partner answers code 0."""
from psycopg.types.json import Jsonb


def enqueue(conn, event_id: str, event: str, order_no: str, biz: dict) -> bool:
    """Write a callback in the caller's transaction; False when that eventId exists already."""
    return conn.execute("insert into partner_callbacks (event_id, event, order_no, biz) values (%s, %s, %s, %s)"
                        " on conflict (event_id) do nothing", (event_id, event, order_no, Jsonb(biz))).rowcount == 1


def claim_due(conn, batch: int, lease_seconds: int) -> list[dict]:
    """Lease due callbacks, each the oldest pending one of its order, so that an order's callbacks
    arrive in the order they happened (skip locked: replicas share)."""
    return conn.execute(
        "update partner_callbacks set next_attempt_at = now() + make_interval(secs => %(lease)s),"
        " attempts = attempts + 1 where id in (select c.id from partner_callbacks c where c.status = 0"
        " and c.next_attempt_at <= now() and not exists (select 1 from partner_callbacks o"
        " where o.order_no = c.order_no and o.status = 0 and o.id < c.id)"
        " order by c.next_attempt_at limit %(batch)s for update skip locked) returning *",
        {"batch": batch, "lease": lease_seconds}).fetchall()


def mark_delivered(conn, callback_id: int) -> None:
    conn.execute("update partner_callbacks set status = 1, delivered_at = now(), last_error = null"
                 " where id = %s and status = 0", (callback_id,))


def retry_later(conn, callback_id: int, delay_seconds: int, error: str) -> None:
    conn.execute("update partner_callbacks set next_attempt_at = now() + make_interval(secs => %s), last_error = %s"
                 " where id = %s and status = 0", (delay_seconds, error[:500], callback_id))


def pending(conn, limit: int) -> list[dict]:
    return conn.execute("select * from partner_callbacks where status = 0 order by id limit %s", (limit,)).fetchall()


def retry_now(conn, event_id: str | None) -> int:
    """Make pending callbacks due at once (one, or all when ``event_id`` is None)."""
    return conn.execute("update partner_callbacks set next_attempt_at = now() where status = 0"
                        " and (%s::text is null or event_id = %s)", (event_id, event_id)).rowcount
