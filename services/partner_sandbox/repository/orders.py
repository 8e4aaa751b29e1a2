"""sim_orders and sim_actions."""
from psycopg.types.json import Jsonb


def insert(conn, order: dict) -> None:
    conn.execute("insert into sim_orders (order_no, name, mobile, id_number, loan_amount, loan_term)"
                 " values (%(order_no)s, %(name)s, %(mobile)s, %(id_number)s, %(loan_amount)s, %(loan_term)s)", order)


def get(conn, order_no: str) -> dict | None:
    return conn.execute("select * from sim_orders where order_no = %s", (order_no,)).fetchone()


def recent(conn, limit: int) -> list[dict]:
    return conn.execute("select * from sim_orders order by created_at desc limit %s", (limit,)).fetchall()


def record_action(conn, order_no: str, action: str, http_status: int | None, answer: dict) -> None:
    conn.execute("insert into sim_actions (order_no, action, http_status, answer) values (%s, %s, %s, %s)",
                 (order_no, action, http_status, Jsonb(answer)))


def actions(conn, order_no: str) -> list[dict]:
    return conn.execute("select action, http_status, answer, created_at from sim_actions where order_no = %s"
                        " order by id", (order_no,)).fetchall()
