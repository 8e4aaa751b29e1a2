"""The ``open_account_link`` table: one-time links, kept by the SHA-256 of their token."""
from psycopg import Connection


def insert(conn: Connection, token_hash: str, link: dict, valid_minutes: int) -> int:
    """Store a link valid for ``valid_minutes`` from the database's now; its expiry as Unix seconds.

    ``link`` holds ``user_no, fullname, id_number, mobile, bank_code, card_number, role``."""
    row = conn.execute(
        "insert into open_account_link (token_hash, user_no, fullname, id_number, mobile, bank_code, card_number,"
        " role, expires_at) values (%(token_hash)s, %(user_no)s, %(fullname)s, %(id_number)s, %(mobile)s,"
        " %(bank_code)s, %(card_number)s, %(role)s, now() + make_interval(mins => %(minutes)s))"
        " returning floor(extract(epoch from expires_at))::bigint as expires_at",
        {**link, "token_hash": token_hash, "minutes": valid_minutes},
    ).fetchone()
    return row["expires_at"]


def state(conn: Connection, token_hash: str) -> dict | None:
    """``{state, fullname, mobile}``: ``valid``, ``used`` or ``expired`` by the database's clock, and whose
    account the link opens; ``None`` for no such link."""
    return conn.execute(
        "select case when used_at is not null then 'used' when expires_at <= now() then 'expired' else 'valid' end"
        " as state, fullname, mobile from open_account_link where token_hash = %s",
        (token_hash,),
    ).fetchone()


def use(conn: Connection, token_hash: str) -> dict | None:
    """Mark the link used if it is unused and unexpired, in one statement: of concurrent callers exactly one
    gets the link's row, the others ``None``."""
    return conn.execute(
        "update open_account_link set used_at = clock_timestamp()"
        " where token_hash = %s and used_at is null and expires_at > now()"
        " returning id, user_no, fullname, id_number, mobile, bank_code, card_number, role, used_at",
        (token_hash,),
    ).fetchone()


def release(conn: Connection, link_id: int, used_at) -> None:
    """Make a link usable again after the use that marked it at ``used_at`` could not be completed."""
    conn.execute("update open_account_link set used_at = null where id = %s and used_at = %s", (link_id, used_at))
