"""The three request tables whose rows wait for a bank result: account opening, recharge, withdraw.

Each has ``request_no`` (unique), ``user_no``, ``callback_status`` (0 pending, 1 success,
2 failed), ``applying_status`` (the outcome claimed while its ledger calls are made, migration 006)
and timestamps; the table is chosen by the gateway service name.
"""
from psycopg import Connection, sql

from shared.contract import PERSONAL_REGISTER, RECHARGE, WITHDRAW

PENDING, SUCCESS, FAILED = 0, 1, 2
TABLES = {
    PERSONAL_REGISTER: "depository_register",
    RECHARGE: "recharge_record",
    WITHDRAW: "withdraw_record",
}


def _table(service_name: str) -> sql.Identifier:
    return sql.Identifier(TABLES[service_name])


def insert_register(conn: Connection, request_no: str, user_no: str, form: dict) -> None:
    """Store an account-opening attempt (``fullname, bank_code, card_number, mobile, role``)."""
    conn.execute(
        "insert into depository_register (request_no, user_no, fullname, bank_code, card_number, mobile, role)"
        " values (%(request_no)s, %(user_no)s, %(fullname)s, %(bank_code)s, %(card_number)s, %(mobile)s, %(role)s)",
        {**form, "request_no": request_no, "user_no": user_no},
    )


# The consumer's row when its depository account is open; the money request is stored only then.
_OPENED_CONSUMER = ("with c as (select user_no, card_number, card_mobile from consumer"
                    " where user_no = %(user_no)s and depository_status = 'OPENED')")


def insert_recharge(conn: Connection, request_no: str, user_no: str, amount: int) -> dict | None:
    """Store a pending recharge of an opened account, in one statement; the consumer's card
    (``card_number, card_mobile``), or ``None`` (nothing stored) when the account is not open."""
    return conn.execute(
        _OPENED_CONSUMER + ", stored as (insert into recharge_record (request_no, user_no, amount)"
        " select %(request_no)s, user_no, %(amount)s from c returning 1) select c.* from c, stored",
        {"user_no": user_no, "request_no": request_no, "amount": amount}).fetchone()


def insert_withdraw(conn: Connection, request_no: str, user_no: str, amount: int, commission: int) -> dict | None:
    """:func:`insert_recharge` for a withdraw with its commission."""
    return conn.execute(
        _OPENED_CONSUMER + ", stored as (insert into withdraw_record (request_no, user_no, amount, commission)"
        " select %(request_no)s, user_no, %(amount)s, %(commission)s from c returning 1) select c.* from c, stored",
        {"user_no": user_no, "request_no": request_no, "amount": amount, "commission": commission}).fetchone()


def lock(conn: Connection, service_name: str, request_no: str) -> dict | None:
    """The request row, locked until the transaction ends; ``None`` when unknown."""
    return conn.execute(
        sql.SQL("select * from {} where request_no = %s for update").format(_table(service_name)), (request_no,)
    ).fetchone()


def lock_many(conn: Connection, service_name: str, request_nos: list[str]) -> list[dict]:
    """The known request rows among ``request_nos``, locked in id order (concurrent lockers never deadlock)."""
    return conn.execute(
        sql.SQL("select * from {} where request_no = any(%s::bpchar[]) order by id for update")
        .format(_table(service_name)), (request_nos,)).fetchall()


def claim(conn: Connection, service_name: str, request_no: str, status: int) -> bool:
    """Decide a pending request for ``status`` before its ledger calls are made (``applying_status``); False
    when it is final or already claimed for the other outcome. Call it under the row's lock (:func:`lock`)."""
    cursor = conn.execute(
        sql.SQL("update {} set applying_status = %(status)s where request_no = %(request_no)s"
                " and callback_status = 0 and coalesce(applying_status, %(status)s) = %(status)s")
        .format(_table(service_name)), {"status": status, "request_no": request_no})
    return cursor.rowcount == 1


def claim_many(conn: Connection, service_name: str, statuses: dict[str, int]) -> None:
    """:func:`claim` for several requests: ``{request_no: status}`` (rows locked by :func:`lock_many`)."""
    _update_many(conn, service_name, statuses, "applying_status = v.status")


def settle(conn: Connection, service_name: str, request_no: str, status: int, notified: bool = False) -> bool:
    """Move a pending request to ``status`` (``notified``: by a bank result); False when it was already final
    or is claimed for the other outcome."""
    cursor = conn.execute(
        sql.SQL("update {} set callback_status = %(status)s, applying_status = null, updated_at = now(),"
                " notified_at = case when %(notified)s then now() end"
                " where request_no = %(request_no)s and callback_status = 0"
                " and coalesce(applying_status, %(status)s) = %(status)s").format(_table(service_name)),
        {"status": status, "notified": notified, "request_no": request_no},
    )
    return cursor.rowcount == 1


def pending_older_than(conn: Connection, service_name: str, seconds: float, skip: list[str],
                       limit: int) -> list[dict]:
    """Pending requests created more than ``seconds`` ago, oldest first, except ``skip``; withdraws only
    while no release of their hold is recorded (those are the hold releaser's)."""
    no_release = sql.SQL(" and not exists (select 1 from withdraw_hold_release h where h.request_no = r.request_no)"
                         if service_name == WITHDRAW else "")
    return conn.execute(
        sql.SQL("select r.* from {} r where r.callback_status = 0 and r.created_at < now() - make_interval(secs => %s)"
                " and r.request_no <> all(%s::text[]){} order by r.created_at limit %s")
        .format(_table(service_name), no_release),
        (seconds, skip, limit)).fetchall()


def settle_many(conn: Connection, service_name: str, statuses: dict[str, int]) -> None:
    """Settle pending requests by a bank result: ``{request_no: status}`` (as :func:`settle` does)."""
    _update_many(conn, service_name, statuses,
                 "callback_status = v.status, applying_status = null, updated_at = now(), notified_at = now()")


def _update_many(conn: Connection, service_name: str, statuses: dict[str, int], assignments: str) -> None:
    """Set ``assignments`` (SQL reading ``v.status``) on the pending requests of ``statuses`` not claimed for
    another outcome."""
    if statuses:
        conn.execute(
            sql.SQL("update {} t set {} from unnest(%s::bpchar[], %s::smallint[]) v (request_no, status)"
                    " where t.request_no = v.request_no and t.callback_status = 0"
                    " and coalesce(t.applying_status, v.status) = v.status")
            .format(_table(service_name), sql.SQL(assignments)),
            (list(statuses), list(statuses.values())))


def delete_pending(conn: Connection, service_name: str, request_no: str) -> None:
    """Forget a pending request that was refused before anything was sent (e.g. insufficient balance)."""
    conn.execute(sql.SQL("delete from {} where request_no = %s and callback_status = 0").format(_table(service_name)),
                 (request_no,))


def page(conn: Connection, service_name: str, user_no: str, page_no: int, size: int) -> tuple[int, list[dict]]:
    """``(total, rows)`` of the user's requests, newest first."""
    table = _table(service_name)
    total = conn.execute(sql.SQL("select count(*) as n from {} where user_no = %s").format(table),
                         (user_no,)).fetchone()["n"]
    rows = conn.execute(
        sql.SQL("select * from {} where user_no = %s order by created_at desc, id desc limit %s offset %s")
        .format(table),
        (user_no, size, (page_no - 1) * size),
    ).fetchall()
    return total, rows


def find_own(conn: Connection, service_name: str, user_no: str, request_no: str) -> dict | None:
    """The user's own request ``request_no``; ``None`` when it is unknown or another user's."""
    return conn.execute(sql.SQL("select * from {} where request_no = %s and user_no = %s").format(_table(service_name)),
                        (request_no, user_no)).fetchone()


_MONEY_RECORDS = (
    "select request_no, 'RECHARGE' as service_name, user_no, amount, 0::bigint as commission, callback_status,"
    " created_at, updated_at from recharge_record where {where}"
    " union all "
    "select request_no, 'WITHDRAW', user_no, amount, commission, callback_status, created_at, updated_at"
    " from withdraw_record where {where}")


def money_records_by_request_no(conn: Connection, request_nos: list[str]) -> list[dict]:
    """Recharge and withdraw records of ``request_nos`` (for reconciliation), in no particular order."""
    query = _MONEY_RECORDS.format(where="request_no = any(%(nos)s)")
    return conn.execute(query, {"nos": request_nos}).fetchall()


def money_records_between(conn: Connection, start, end, limit: int, offset: int) -> tuple[int, list[dict]]:
    """``(total, rows)`` of recharge and withdraw records created or updated in ``[start, end)``."""
    where = ("(created_at >= %(start)s and created_at < %(end)s)"
             " or (updated_at >= %(start)s and updated_at < %(end)s)")
    params = {"start": start, "end": end}
    union = _MONEY_RECORDS.format(where=where)
    total = conn.execute(f"select count(*) as n from ({union}) money", params).fetchone()["n"]
    rows = conn.execute(f"{union} order by created_at, request_no limit %(limit)s offset %(offset)s",
                        {**params, "limit": limit, "offset": offset}).fetchall()
    return total, rows
