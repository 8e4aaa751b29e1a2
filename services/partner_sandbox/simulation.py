"""Driving lending as the partner would: push an order, bind a card, confirm, repay; and what an order
looks like from the partner's side (its callbacks and the answers of the query APIs).

The partner's calls are ``POST <LENDING_URL>/rongshu/<name>`` in a freshly signed envelope
(:mod:`shared.partner_envelope`); every call made for an order is kept with lending's answer.
"""
import json
import secrets
import time

import urllib3
from urllib3.exceptions import HTTPError

from shared.contract import PARTNER_PATH_PREFIX, PARTNER_SUCCESS, PartnerCall
from shared.db import unit_of_work
from shared.http import json_object
from shared.partner_envelope import seal

from partner_sandbox.repository import callbacks, orders

QUERIES = (PartnerCall.AUDIT_RESULT, PartnerCall.LOAN_RESULT, PartnerCall.REPAY_PLAN)
DEFAULT_CARD = {"bankCode": "ICBC", "cardNumber": "6222020200112233445"}
NO_ANSWER = -1  # the ``code`` the sandbox records when lending gave no JSON answer


class Lending:
    """lending's partner API, called as the partner: signed with the shared secret, no service token."""

    def __init__(self, config: dict):
        self.base = config["LENDING_URL"].rstrip("/")
        self.app_id, self.secret = config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"]
        seconds = config["LENDING_TIMEOUT_SECONDS"]
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=urllib3.Timeout(connect=seconds, read=seconds))

    def call(self, name: str, biz: dict) -> tuple[int | None, dict]:
        """Lending's HTTP status and JSON answer; ``(None, {code, msg})`` when it did not answer."""
        envelope = seal(biz, self.app_id, self.secret, int(time.time() * 1000))
        try:
            response = self.http.request("POST", f"{self.base}{PARTNER_PATH_PREFIX}{name}",
                                         body=json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, redirect=False)
        except HTTPError as exc:
            return None, {"code": NO_ANSWER, "msg": f"lending did not answer: {exc.__class__.__name__}"}
        answer = json_object(response.data)
        if not answer:
            answer = {"code": NO_ANSWER, "msg": f"not JSON: {response.data[:200]!r}"}
        return response.status, answer


def new_order_no() -> str:
    return "RS" + time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


def push(deps, order: dict) -> dict:
    """Store and push a new order; ``{orderNo, status?, lending: answer}``."""
    order = {**order, "order_no": new_order_no()}
    with unit_of_work(deps.pool) as conn:
        orders.insert(conn, order)
    answer = _call(deps, order["order_no"], PartnerCall.ORDER_PUSH, {
        "orderNo": order["order_no"], "loanAmount": order["loan_amount"], "loanTerm": order["loan_term"],
        "name": order["name"], "mobile": order["mobile"], "idNumber": order["id_number"]})
    return {"orderNo": order["order_no"], "status": (answer.get("data") or {}).get("status"), "lending": answer}


def bind_card(deps, order_no: str, card: dict) -> dict:
    """card/bind for the order (defaults: an ICBC card and the order's mobile); lending's answer."""
    with deps.pool.connection() as conn:
        order = orders.get(conn, order_no)
    biz = {"orderNo": order_no, **DEFAULT_CARD, "mobile": order["mobile"] if order else "13800138000"}
    biz.update({key: value for key, value in card.items() if value})
    return _call(deps, order_no, PartnerCall.CARD_BIND, biz)


def confirm(deps, order_no: str) -> dict:
    """loan/confirm; lending's answer."""
    return _call(deps, order_no, PartnerCall.LOAN_CONFIRM, {"orderNo": order_no})


def repay(deps, order_no: str, periods) -> dict:
    """A trial, then a repayment of exactly its amount under a new repayNo."""
    trial = _call(deps, order_no, PartnerCall.REPAY_TRIAL, {"orderNo": order_no, "periods": periods})
    if trial.get("code") != PARTNER_SUCCESS:
        return {"trial": trial}
    repay_no = "RP" + time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()
    answer = _call(deps, order_no, PartnerCall.REPAY, {
        "orderNo": order_no, "repayNo": repay_no, "periods": periods, "amount": trial["data"]["amount"]})
    return {"trial": trial, "repay": answer}


def view(deps, order_no: str) -> dict:
    """The order as the partner sees it: its push, the calls made, the callbacks received (whoever
    pushed it), and the query APIs' answers now."""
    with deps.pool.connection() as conn:
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
        "queries": queries(deps, order_no),
    }


def queries(deps, order_no: str) -> dict:
    """The query APIs' answers now (audit/result, loan/result, repay/plan), by name; not recorded."""
    return {name: deps.lending.call(name, {"orderNo": order_no})[1] for name in QUERIES}


def _call(deps, order_no: str, name: str, biz: dict) -> dict:
    status, answer = deps.lending.call(name, biz)
    with unit_of_work(deps.pool) as conn:
        orders.record_action(conn, order_no, name, status, answer)
    return answer
