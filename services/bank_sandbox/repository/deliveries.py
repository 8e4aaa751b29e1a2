"""deliveries and delivery_attempts: the outbox of notifications and the log of every attempt."""
from datetime import timedelta

from psycopg.types.json import Jsonb

_DUE = "(not delivered or duplicates_left > 0) and next_attempt_at <= now()"
ORDERS = {"none": "next_attempt_at, id", "newest_first": "id desc", "shuffle": "random()"}
# A claimed delivery is changed only while it is as its notifier claimed it: each recorded attempt
# moves attempts or duplicates_left on, so a notifier whose lease ran out cannot overwrite another's.
_AS_CLAIMED = "id = %s and attempts = %s and duplicates_left = %s"


def _claimed(delivery: dict) -> tuple:
    return delivery["id"], delivery["attempts"], delivery["duplicates_left"]


def insert(conn, target: str, path: str, encoding: str, reference: str, params: dict, expected_reply: str,
           drops: int, duplicates: int, delay: timedelta) -> int:
    """Queue one notification; returns its id."""
    return conn.execute(
        "insert into deliveries (target, path, encoding, reference, params, expected_reply, drops_left,"
        " duplicates_left, next_attempt_at) values (%s, %s, %s, %s, %s, %s, %s, %s, now() + %s) returning id",
        (target, path, encoding, reference, Jsonb(params), expected_reply, drops, duplicates, delay),
    ).fetchone()["id"]


def claim_due(conn, order: str, include_first_attempts: bool) -> dict | None:
    """Lock one due delivery that no other notifier holds, in the given order (a key of ORDERS)."""
    first = "" if include_first_attempts else " and attempts > 0"
    return conn.execute(
        f"select * from deliveries where {_DUE}{first} order by {ORDERS[order]} limit 1 for update skip locked"
    ).fetchone()


def lease(conn, delivery_id: int, length: timedelta) -> None:
    """Leave a claimed delivery to its notifier for ``length``: not due again before that."""
    conn.execute("update deliveries set next_attempt_at = now() + %s where id = %s", (length, delivery_id))


def waiting_first_attempts(conn) -> dict:
    """How many deliveries wait for their first attempt, and the age in seconds of the oldest."""
    return conn.execute(
        "select count(*) as waiting, coalesce(extract(epoch from now() - min(created_at)), 0)::float as oldest"
        " from deliveries where not delivered and attempts = 0 and next_attempt_at <= now()"
    ).fetchone()


def log_attempt(conn, delivery: dict, kind: str, outcome: dict, attempt: int) -> None:
    """Append one attempt (send, drop or duplicate) to the log."""
    conn.execute(
        "insert into delivery_attempts (delivery_id, attempt, kind, http_status, answer, error, accepted, elapsed_ms)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (delivery["id"], attempt, kind, outcome.get("status"), outcome.get("answer"), outcome.get("error"),
         outcome.get("accepted", False), outcome.get("elapsed_ms", 0)),
    )


def mark_failed(conn, delivery: dict, outcome: dict, retry_in: timedelta, dropped: bool) -> None:
    """Count a failed (or dropped) attempt of a claimed delivery and schedule the next one."""
    conn.execute(
        "update deliveries set attempts = attempts + 1, next_attempt_at = now() + %s, drops_left = drops_left - %s,"
        f" last_status = %s, last_answer = %s, last_error = %s where not delivered and {_AS_CLAIMED}",
        (retry_in, 1 if dropped else 0, outcome.get("status"), outcome.get("answer"), outcome.get("error"),
         *_claimed(delivery)),
    )


def mark_delivered(conn, delivery_id: int, outcome: dict) -> None:
    """The receiver gave the expected reply: done, whoever else is trying (pending fault duplicates are sent
    right after)."""
    conn.execute(
        "update deliveries set attempts = attempts + 1, delivered = true, delivered_at = now(),"
        " next_attempt_at = now(), last_status = %s, last_answer = %s, last_error = null"
        " where id = %s and not delivered",
        (outcome.get("status"), outcome.get("answer"), delivery_id),
    )


def mark_duplicate_sent(conn, delivery: dict) -> None:
    """One fault duplicate of a claimed delivery sent; the next one is due right away."""
    conn.execute(f"update deliveries set duplicates_left = duplicates_left - 1, next_attempt_at = now()"
                 f" where {_AS_CLAIMED}", _claimed(delivery))


def pending(conn, limit: int = 100) -> list[dict]:
    """Undelivered notifications, oldest first (operator view)."""
    return conn.execute(
        "select id, target, path, reference, attempts, next_attempt_at, last_status, last_answer, last_error"
        " from deliveries where not delivered order by id limit %s", (limit,)
    ).fetchall()


def make_due(conn, delivery_id: int | None) -> int:
    """Make one undelivered notification (or all of them) due now; returns how many."""
    if delivery_id is None:
        return conn.execute("update deliveries set next_attempt_at = now() where not delivered").rowcount
    return conn.execute(
        "update deliveries set next_attempt_at = now() where not delivered and id = %s", (delivery_id,)
    ).rowcount
