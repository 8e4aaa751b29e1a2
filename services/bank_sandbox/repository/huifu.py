"""huifu_customers and huifu_orders: the Huifu channel's customers, balances (fen) and callbacks sent."""
from psycopg.types.json import Jsonb

from shared.contract import HUIFU_SUCCESS, USER_REGISTER


def insert_customer(conn, usr_cust_id: str, usr_id: str, usr_name: str, card_balance: int) -> bool:
    """Open a Huifu customer; False when the usrId or the generated UsrCustId is already taken."""
    row = conn.execute(
        "insert into huifu_customers (usr_cust_id, usr_id, usr_name, card_balance) values (%s, %s, %s, %s)"
        " on conflict do nothing returning usr_cust_id",
        (usr_cust_id, usr_id, usr_name, card_balance),
    ).fetchone()
    return row is not None


def customer_by_usr_id(conn, usr_id: str) -> dict | None:
    return conn.execute("select * from huifu_customers where usr_id = %s", (usr_id,)).fetchone()


def lock_customer(conn, usr_cust_id: str) -> dict | None:
    return conn.execute("select * from huifu_customers where usr_cust_id = %s for update", (usr_cust_id,)).fetchone()


def move_to_huifu_balance(conn, usr_cust_id: str, amount: int) -> None:
    """Card -> Huifu balance; the check constraint refuses an overdrawn card."""
    conn.execute(
        "update huifu_customers set card_balance = card_balance - %s, huifu_balance = huifu_balance + %s,"
        " updated_at = now() where usr_cust_id = %s",
        (amount, amount, usr_cust_id),
    )


def insert_order(conn, fields: dict, amount: int | None, page_url: str) -> None:
    """Keep a callback the bank issued, with every field it carries."""
    conn.execute(
        "insert into huifu_orders (trx_id, cmd_id, usr_id, usr_cust_id, ord_id, amount, resp_code, resp_desc,"
        " fields, page_url) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (fields["TrxId"], fields["CmdId"], fields.get("UsrId"), fields.get("UsrCustId") or None, fields.get("OrdId"),
         amount, fields["RespCode"], fields["RespDesc"], Jsonb(fields), page_url),
    )


def successful_register(conn, usr_id: str) -> dict | None:
    """The first successful UserRegister callback issued for ``usr_id``."""
    return conn.execute(
        "select * from huifu_orders where cmd_id = %s and usr_id = %s and resp_code = %s"
        " order by created_at limit 1", (USER_REGISTER, usr_id, HUIFU_SUCCESS)
    ).fetchone()


def order_by_ord_id(conn, ord_id: str) -> dict | None:
    return conn.execute("select * from huifu_orders where ord_id = %s", (ord_id,)).fetchone()


def serialize_on(conn, key: str) -> None:
    """Serialize transactions working on the same key (a usrId or OrdId) until commit."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (key,))
