"""The partner's order calls: user/filter, order/push, audit/result, card/bind, banks and agreements.

The partner names a person by the lower-case hex MD5 of the mobile and of the ID number; a person may
apply while no order or borrow of theirs is unfinished, and not for REAPPLY_DAYS after a credit refusal.
"""
import hashlib
from datetime import date, datetime, timedelta

from shared.contract import AUDIT_APPROVED, AUDIT_IN_REVIEW, AUDIT_REFUSED
from shared.db import unit_of_work
from shared.errors import Conflict, NotFound
from shared.partner_envelope import TIMESTAMP_WINDOW_MS

from lending import schedules
from lending.repository import orders as repo

BANKS = (("ICBC", "中国工商银行"), ("ABC", "中国农业银行"), ("BOC", "中国银行"), ("CCB", "中国建设银行"),
         ("BOCOM", "交通银行"), ("CMB", "招商银行"), ("CIB", "兴业银行"), ("CMBC", "中国民生银行"),
         ("SPDB", "上海浦东发展银行"), ("PSBC", "中国邮政储蓄银行"))
BANK_CODES = frozenset(code for code, _ in BANKS)
AGREEMENTS = (("loan", "借款协议"), ("entrust", "委托扣款授权书"), ("privacy", "个人信息授权书"))
PUSHED_FIELDS = ("loan_amount", "loan_term", "name", "mobile", "id_number")
REFUSAL_TEXT = "资质不符"
_AUDIT_STATUS = {repo.PUSHED: AUDIT_IN_REVIEW, repo.DATA_PULLED: AUDIT_IN_REVIEW, repo.PARSED: AUDIT_IN_REVIEW,
                 repo.CREDIT_APPLIED: AUDIT_IN_REVIEW, repo.REFUSED: AUDIT_REFUSED, repo.EXPIRED: AUDIT_REFUSED,
                 repo.APPROVED: AUDIT_APPROVED, repo.BORROW_CREATED: AUDIT_APPROVED}


def admission(conn, config: dict, id_number_md5: str, mobile_md5: str) -> dict:
    """``{admit: true}``, or why not: an unfinished order or borrow, or a credit refusal less than
    REAPPLY_DAYS ago (``canLoanTime`` = the first day allowed)."""
    history = repo.person_history(conn, id_number_md5, mobile_md5)
    if history["unfinished"]:
        return {"admit": False, "reason": "an unfinished loan application or loan exists"}
    if history["last_refused_at"] is not None:
        can_loan = first_day_to_reapply(config, history["last_refused_at"])
        if schedules.today(config) < can_loan:
            return {"admit": False, "reason": "refused by credit recently", "canLoanTime": can_loan.isoformat()}
    return {"admit": True}


def first_day_to_reapply(config: dict, refused_at: datetime) -> date:
    """``canLoanTime``: the day of a credit refusal (LENDING_TIMEZONE) plus REAPPLY_DAYS."""
    return schedules.local_date(config, refused_at) + timedelta(days=config["REAPPLY_DAYS"])


def md5_hex(text: str) -> str:
    """Lower-case hex MD5 of the UTF-8 text: how the partner names a person in ``user/filter``."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def user_filter(pool, config: dict, id_number_md5: str, mobile_md5: str) -> dict:
    with pool.connection() as conn:
        return admission(conn, config, id_number_md5, mobile_md5)


def push(pool, config: dict, order: dict) -> dict:
    """Create the partner order at 0; the same orderNo with the same content answers the same, with other
    content 409; a person who may not apply now is refused with 409 and nothing is stored."""
    order = {**order, "mobile_md5": md5_hex(order["mobile"]), "id_number_md5": md5_hex(order["id_number"])}
    with unit_of_work(pool) as conn:
        repo.lock_people(conn, order["id_number_md5"], order["mobile_md5"])
        stored = repo.by_order_no(conn, order["order_no"])
        if stored is None:
            verdict = admission(conn, config, order["id_number_md5"], order["mobile_md5"])
            if not verdict["admit"]:
                can_loan = f" (from {verdict['canLoanTime']})" if "canLoanTime" in verdict else ""
                raise Conflict(f"not admitted: {verdict['reason']}{can_loan}")
            stored = repo.insert(conn, order) or repo.by_order_no(conn, order["order_no"])
    if any(stored[name] != order[name] for name in PUSHED_FIELDS):
        raise Conflict(f"orderNo {order['order_no']} was pushed with other content")
    return {"orderNo": stored["order_no"], "status": stored["status"]}


def known_order(conn, order_no: str, lock: bool = False) -> dict:
    order = repo.by_order_no(conn, order_no, lock)
    if order is None:
        raise NotFound(f"unknown orderNo {order_no}")
    return order


def audit_result(pool, order_no: str) -> dict:
    with pool.connection() as conn:
        order = known_order(conn, order_no)
    answer = {"orderNo": order_no, "status": _AUDIT_STATUS[order["status"]]}
    if answer["status"] == AUDIT_REFUSED:
        answer["reason"] = REFUSAL_TEXT
    elif answer["status"] == AUDIT_APPROVED:
        answer["approvedAmount"] = order["approved_amount"]
    return answer


def bind_card(pool, card: dict, sign: str) -> dict:
    """Bind a card for the order's borrower (after credit approval). A replay of the same envelope is
    answered without binding again, so an old bind cannot take the default back within the window."""
    with unit_of_work(pool) as conn:
        order = known_order(conn, card["order_no"], lock=True)
        if order["status"] not in (repo.APPROVED, repo.BORROW_CREATED):
            raise Conflict(f"order {card['order_no']} is not approved (status {order['status']})")
        repo.lock_people(conn, order["id_number_md5"])
        repo.forget_old_envelopes(conn, 2 * TIMESTAMP_WINDOW_MS // 1000)
        if repo.first_sight(conn, sign, "card/bind"):
            bound = repo.bind_card(conn, order["id_number_md5"], card["bank_code"], card["card_number"],
                                   card["mobile"])
            repo.mark_card_bound(conn, order["id"])
        else:
            bound = repo.card(conn, order["id_number_md5"], card["card_number"])
    return {"bound": True, "isDefault": bool(bound and bound["is_default"])}


def banks() -> dict:
    return {"banks": [{"bankCode": code, "bankName": name} for code, name in BANKS]}


def agreements(pool, config: dict, order_no: str | None) -> dict:
    if order_no is not None:
        with pool.connection() as conn:
            known_order(conn, order_no)
    base = config["PUBLIC_URL"].rstrip("/")
    suffix = f"?orderNo={order_no}" if order_no else ""
    return {"agreements": [{"name": name, "url": f"{base}/agreements/{slug}{suffix}"} for slug, name in AGREEMENTS]}
