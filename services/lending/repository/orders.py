"""partner_orders, credit_data, cards, envelope_replays and borrow_confirm_log."""
from psycopg.types.json import Jsonb

PUSHED, DATA_PULLED, PARSED, CREDIT_APPLIED, APPROVED, BORROW_CREATED, REFUSED, EXPIRED = 0, 2, 10, 11, 12, 1, 4, 5
UNFINISHED = (PUSHED, DATA_PULLED, PARSED, CREDIT_APPLIED, APPROVED)


def lock_people(conn, *keys: str) -> None:
    """Serialise the pushes of one person (by ID number and by mobile) until the transaction ends: one
    statement taking the locks in sorted order (a target list is evaluated left to right), so that two
    pushes never wait for each other's second lock."""
    keys = sorted(set(keys))
    locks = ", ".join("pg_advisory_xact_lock(hashtextextended(%s, 0))" for _ in keys)
    conn.execute(f"select {locks}", [f"person:{key}" for key in keys])


def insert(conn, order: dict) -> dict | None:
    """A new order at status 0, or None when the orderNo exists already."""
    return conn.execute(
        "insert into partner_orders (order_no, loan_amount, loan_term, name, mobile, id_number, mobile_md5,"
        " id_number_md5) values (%(order_no)s, %(loan_amount)s, %(loan_term)s, %(name)s, %(mobile)s,"
        " %(id_number)s, %(mobile_md5)s, %(id_number_md5)s) on conflict (order_no) do nothing returning *",
        order).fetchone()


def by_order_no(conn, order_no: str, lock: bool = False) -> dict | None:
    return conn.execute("select * from partner_orders where order_no = %s" + (" for update" if lock else ""),
                        (order_no,)).fetchone()


def by_id(conn, order_id: int, lock: bool = False) -> dict | None:
    return conn.execute("select * from partner_orders where id = %s" + (" for update" if lock else ""),
                        (order_id,)).fetchone()


def person_history(conn, id_number_md5: str, mobile_md5: str) -> dict:
    """``{unfinished, last_refused_at}`` for the person named by either MD5: an order still on its way
    or a borrow not finished, and the time of the latest credit refusal."""
    return conn.execute(
        "select exists (select 1 from partner_orders o left join borrows b on b.order_id = o.id"
        "               where (o.id_number_md5 = %(id)s or o.mobile_md5 = %(mobile)s)"
        "                 and (o.status = any(%(unfinished)s) or (o.status = 1 and"
        "                      (b.id is null or b.status not in (27, 40, 41))))) as unfinished,"
        " (select max(refused_at) from partner_orders where (id_number_md5 = %(id)s or mobile_md5 = %(mobile)s)"
        "   and status = 4) as last_refused_at",
        {"id": id_number_md5, "mobile": mobile_md5, "unfinished": list(UNFINISHED)}).fetchone()


def claim_due(conn, status: int, batch: int, lease_seconds: int) -> list[dict]:
    """Lease up to ``batch`` orders at ``status`` whose next attempt is due (skip locked: replicas share)."""
    return conn.execute(
        "update partner_orders set next_attempt_at = now() + make_interval(secs => %(lease)s),"
        " attempts = attempts + 1 where id in (select id from partner_orders where status = %(status)s"
        " and next_attempt_at <= now() order by next_attempt_at limit %(batch)s for update skip locked)"
        " returning *", {"status": status, "batch": batch, "lease": lease_seconds}).fetchall()


def lock_due(conn, status: int, batch: int) -> list[dict]:
    """Lock up to ``batch`` orders at ``status`` for this transaction (skip locked: replicas share)."""
    return conn.execute("select * from partner_orders where status = %s order by id limit %s"
                        " for update skip locked", (status, batch)).fetchall()


def advance(conn, order_id: int, from_status: int, to_status: int, **fields) -> dict | None:
    """Move an order from ``from_status`` to ``to_status`` (setting ``fields``); None when it is not there."""
    sets = "".join(f", {name} = %({name})s" for name in fields)
    values = {name: Jsonb(value) if isinstance(value, dict) else value for name, value in fields.items()}
    return conn.execute(
        f"update partner_orders set status = %(to)s, attempts = 0, last_error = null{sets}"
        " where id = %(id)s and status = %(from)s returning *",
        {**values, "id": order_id, "from": from_status, "to": to_status}).fetchone()


def retry_later(conn, order_id: int, delay_seconds: int, error: str) -> None:
    conn.execute("update partner_orders set next_attempt_at = now() + make_interval(secs => %s), last_error = %s"
                 " where id = %s", (delay_seconds, error[:500], order_id))


def set_user_no(conn, order_id: int, user_no: str) -> None:
    conn.execute("update partner_orders set user_no = %s where id = %s and user_no is distinct from %s",
                 (user_no, order_id, user_no))


def expire_unconfirmed(conn, batch: int) -> list[dict]:
    """Approved orders past their confirmation deadline: 12 -> 5."""
    return conn.execute(
        "update partner_orders set status = 5 where id in (select id from partner_orders where status = 12"
        " and confirm_deadline < now() order by confirm_deadline limit %s for update skip locked) returning *",
        (batch,)).fetchall()


def credit_data_kinds(conn, order_id: int) -> dict[str, dict]:
    rows = conn.execute("select kind, body from credit_data where order_id = %s", (order_id,)).fetchall()
    return {row["kind"]: row["body"] for row in rows}


def store_credit_data(conn, order_id: int, kind: str, body: dict) -> None:
    conn.execute("insert into credit_data (order_id, kind, body) values (%s, %s, %s)"
                 " on conflict (order_id, kind) do nothing", (order_id, kind, Jsonb(body)))


def default_card(conn, id_number_md5: str) -> dict | None:
    return conn.execute("select * from cards where id_number_md5 = %s and is_default", (id_number_md5,)).fetchone()


def card(conn, id_number_md5: str, card_number: str, lock: bool = False) -> dict | None:
    return conn.execute("select * from cards where id_number_md5 = %s and card_number = %s"
                        + (" for update" if lock else ""), (id_number_md5, card_number)).fetchone()


def bind_card(conn, id_number_md5: str, bank_code: str, card_number: str, mobile: str) -> dict:
    """Bind a card to the person: the first is the default; binding a bound card again makes it the
    default and refreshes its time. Returns the card row."""
    bound = card(conn, id_number_md5, card_number, lock=True)
    if bound is None:
        has_default = default_card(conn, id_number_md5) is not None
        return conn.execute(
            "insert into cards (id_number_md5, bank_code, card_number, mobile, is_default) values (%s, %s, %s, %s, %s)"
            " returning *", (id_number_md5, bank_code, card_number, mobile, not has_default)).fetchone()
    conn.execute("update cards set is_default = false where id_number_md5 = %s and is_default and id <> %s",
                 (id_number_md5, bound["id"]))
    return conn.execute("update cards set is_default = true, bound_at = now(), bank_code = %s, mobile = %s"
                        " where id = %s returning *", (bank_code, mobile, bound["id"])).fetchone()


def mark_card_bound(conn, order_id: int) -> None:
    conn.execute("update partner_orders set card_bound = true where id = %s and not card_bound", (order_id,))


def first_sight(conn, sign: str, api: str) -> bool:
    """Record an envelope's sign; False when it was seen before (a replay)."""
    return conn.execute("insert into envelope_replays (sign, api) values (%s, %s) on conflict do nothing",
                        (sign, api)).rowcount == 1


def forget_old_envelopes(conn, seconds: int) -> int:
    """Drop signs older than ``seconds``: their envelopes are stale, refused by their timestamp anyway."""
    return conn.execute("delete from envelope_replays where seen_at < now() - make_interval(secs => %s)",
                        (seconds,)).rowcount


def log_confirmation(conn, order: dict, user_no: str, check_after_seconds: int) -> None:
    """Keep a confirmation made before the account was open (unique by orderNo: repeats change nothing)."""
    conn.execute("insert into borrow_confirm_log (order_id, order_no, user_no, next_check_at)"
                 " values (%s, %s, %s, now() + make_interval(secs => %s)) on conflict do nothing",
                 (order["id"], order["order_no"], user_no, check_after_seconds))


def claim_confirmations(conn, batch: int, lease_seconds: int) -> list[dict]:
    """Lease confirmations still waiting for an open account whose check is due."""
    return conn.execute(
        "update borrow_confirm_log set next_check_at = now() + make_interval(secs => %(lease)s),"
        " checks = checks + 1 where order_id in (select l.order_id from borrow_confirm_log l"
        " join partner_orders o on o.id = l.order_id where l.done_at is null and o.status = 12"
        " and l.next_check_at <= now() order by l.next_check_at limit %(batch)s for update of l skip locked)"
        " returning *", {"batch": batch, "lease": lease_seconds}).fetchall()


def check_again_later(conn, order_id: int, seconds: int) -> None:
    conn.execute("update borrow_confirm_log set next_check_at = now() + make_interval(secs => %s)"
                 " where order_id = %s and done_at is null", (seconds, order_id))


def close_confirmation(conn, order_id: int) -> None:
    conn.execute("update borrow_confirm_log set done_at = now() where order_id = %s and done_at is null", (order_id,))
