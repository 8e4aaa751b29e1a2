"""The ``consumer`` table: users, their depository status and bound bank card."""
from psycopg import Connection


def insert(conn: Connection, user_no: str, mobile: str, username: str | None, password_hash: str) -> dict | None:
    """Insert a user; ``None`` when the mobile is already registered."""
    return conn.execute(
        "insert into consumer (user_no, mobile, username, password_hash) values (%s, %s, %s, %s)"
        " on conflict (mobile) do nothing returning user_no, mobile, username",
        (user_no, mobile, username, password_hash),
    ).fetchone()


def find_by_mobile(conn: Connection, mobile: str) -> dict | None:
    """The user of ``mobile`` with its password hash (``None`` for a user who has not set one)."""
    return conn.execute("select user_no, password_hash from consumer where mobile = %s", (mobile,)).fetchone()


def find(conn: Connection, user_no: str, for_update: bool = False) -> dict | None:
    """The user's row; ``for_update`` locks it until the transaction ends."""
    query = ("select user_no, mobile, username, id_number, depository_status, register_request_no, bank_code,"
             " bank_name, card_number, card_mobile from consumer where user_no = %s")
    return conn.execute(query + (" for update" if for_update else ""), (user_no,)).fetchone()


def mark_pending(conn: Connection, user_no: str, request_no: str) -> None:
    """An account-opening attempt started: it becomes the attempt whose result decides the status."""
    conn.execute(
        "update consumer set depository_status = 'PENDING', register_request_no = %s, updated_at = now()"
        " where user_no = %s",
        (request_no, user_no),
    )


def mark_opened(conn: Connection, user_no: str, card: dict) -> None:
    """The bank opened the account: bind the card (``bank_code, bank_name, card_number, card_mobile``)."""
    conn.execute(
        "update consumer set depository_status = 'OPENED', bank_code = %(bank_code)s, bank_name = %(bank_name)s,"
        " card_number = %(card_number)s, card_mobile = %(card_mobile)s, updated_at = now()"
        " where user_no = %(user_no)s",
        {**card, "user_no": user_no},
    )


def mark_failed(conn: Connection, user_no: str, request_no: str) -> None:
    """The attempt ``request_no`` failed: FAILED, unless the account is open or a newer attempt runs."""
    conn.execute(
        "update consumer set depository_status = 'FAILED', updated_at = now()"
        " where user_no = %s and register_request_no = %s and depository_status <> 'OPENED'",
        (user_no, request_no),
    )


def insert_borrower(conn: Connection, user_no: str, mobile: str, fullname: str, id_number: str) -> dict | None:
    """Insert a user without a password for lending; ``None`` when the mobile is already taken."""
    return conn.execute(
        "insert into consumer (user_no, mobile, fullname, id_number) values (%s, %s, %s, %s)"
        " on conflict (mobile) do nothing returning user_no, depository_status, id_number",
        (user_no, mobile, fullname, id_number),
    ).fetchone()


def claim_identity(conn: Connection, mobile: str, fullname: str, id_number: str) -> dict | None:
    """The user of ``mobile``, given ``fullname`` and ``id_number`` if it had no ID number yet; ``None``
    when there is no such user."""
    return conn.execute(
        "update consumer set id_number = coalesce(id_number, %(id)s),"
        " fullname = case when id_number is null then %(name)s else fullname end"
        " where mobile = %(mobile)s returning user_no, depository_status, id_number",
        {"id": id_number, "name": fullname, "mobile": mobile},
    ).fetchone()
