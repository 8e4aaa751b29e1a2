"""Driving lending as the partner would: push an order, bind a card, confirm, repay; and what an order
looks like from the partner's side (its callbacks and the answers of the query APIs)."""
import secrets
import time

from shared.db import unit_of_work

from partner_sandbox.repository import callbacks, orders

QUERIES = ("audit/result", "loan/result", "repay/plan")
DEFAULT_CARD = {"bankCode": "ICBC", "cardNumber": "6222020200112233445"}


def new_order_no() -> str:
    return "RS" + time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


def push(pool, lending, order: dict) -> dict:
    """Store and push a new order; ``{orderNo, status?, lending: answer}``."""
    order = {**order, "order_no": new_order_no()}
    with unit_of_work(pool) as conn:
        orders.insert(conn, order)
    answer = _call(pool, lending, order["order_no"], "order/push", {
        "orderNo": order["order_no"], "loanAmount": order["loan_amount"], "loanTerm": order["loan_term"],
        "name": order["name"], "mobile": order["mobile"], "idNumber": order["id_number"]})
    return {"orderNo": order["order_no"], "status": (answer.get("data") or {}).get("status"), "lending": answer}


def bind_card(pool, lending, order_no: str, card: dict) -> dict:
    with pool.connection() as conn:
        order = orders.get(conn, order_no)
    biz = {"orderNo": order_no, **DEFAULT_CARD, "mobile": order["mobile"] if order else "13800138000"}
    biz.update({key: value for key, value in card.items() if value})
    return _call(pool, lending, order_no, "card/bind", biz)


def confirm(pool, lending, order_no: str) -> dict:
    return _call(pool, lending, order_no, "loan/confirm", {"orderNo": order_no})


def repay(pool, lending, order_no: str, periods) -> dict:
    """A trial, then a repayment of exactly its amount under a new repayNo."""
    trial = _call(pool, lending, order_no, "repay/trial", {"orderNo": order_no, "periods": periods})
    if trial.get("code") != 0:
        return {"trial": trial}
    repay_no = "RP" + time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()
    answer = _call(pool, lending, order_no, "repay", {"orderNo": order_no, "repayNo": repay_no, "periods": periods,
                                                       "amount": trial["data"]["amount"]})
    return {"trial": trial, "repay": answer}


def view(pool, lending, order_no: str) -> dict:
    """The order as the partner sees it: its push, the calls made, the callbacks received (whoever
    pushed it), and the query APIs' answers now."""
    with pool.connection() as conn:
        order = orders.get(conn, order_no)
        actions = orders.actions(conn, order_no)
        received = callbacks.of_order(conn, order_no)
    return {
        "orderNo": order_no,
        "order": None if order is None else {"name": order["name"], "mobile": order["mobile"],
                                             "loanAmount": order["loan_amount"], "loanTerm": order["loan_term"],
                                             "createdAt": order["created_at"].isoformat()},
        "actions": [{"action": a["action"], "httpStatus": a["http_status"], "answer": a["answer"],
                     "at": a["created_at"].isoformat()} for a in actions],
        "callbacks": [{"eventId": c["event_id"], "event": c["event"], "biz": c["biz"], "repeats": c["repeats"],
                       "receivedAt": c["received_at"].isoformat()} for c in received],
        "queries": {name: lending.call(name, {"orderNo": order_no})[1] for name in QUERIES},
    }


def _call(pool, lending, order_no: str, name: str, biz: dict) -> dict:
    status, answer = lending.call(name, biz)
    with unit_of_work(pool) as conn:
        orders.record_action(conn, order_no, name, status, answer)
    return answer
