"""``huifu_transaction``: one row per bank transaction (TrxId) accepted by a background callback."""
from psycopg import Connection
from psycopg.types.json import Jsonb


def claim_transaction(conn: Connection, trx_id: str, cmd_id: str, signed: dict) -> dict | None:
    """Record bank transaction ``trx_id`` as this callback; None when it is new, else the callback
    stored under it before (``cmd_id``, ``signed``)."""
    row = conn.execute(
        "insert into huifu_transaction (trx_id, cmd_id, signed) values (%s, %s, %s)"
        " on conflict (trx_id) do nothing returning trx_id",
        (trx_id, cmd_id, Jsonb(signed)),
    ).fetchone()
    return None if row is not None else find_transaction(conn, trx_id)


def find_transaction(conn: Connection, trx_id: str) -> dict | None:
    """The callback stored for bank transaction ``trx_id``: ``cmd_id``, ``signed``."""
    return conn.execute("select cmd_id, signed from huifu_transaction where trx_id = %s", (trx_id,)).fetchone()
