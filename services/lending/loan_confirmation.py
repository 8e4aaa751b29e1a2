"""loan/confirm and the depository-state-check job (the seed's OpenapiXWAuthStateCheckJob).

A borrower confirms an approved order (12). With an open depository account the borrow is created
(0) and the order set to 1 in one transaction, under the order's row lock, so repeated or concurrent
confirmations and the state-check job create one borrow between them (and ``borrows.order_id`` is
unique besides). Without one, the confirmation is kept in ``borrow_confirm_log`` (unique by orderNo)
and the borrower gets a one-time link to user-center that opens the account at the bank; the
state-check job later finds the account open and creates the borrow. Approved orders nobody
confirmed within CONFIRM_DAYS expire (12 -> 5).

user-center does the borrower's side (service token, RestResponse; paths in ``shared.contract``): find
or create the user by mobile, tell a user's depository status, and make the one-time link.
"""
import logging
import uuid
from decimal import Decimal

from shared.contract import (AUDIT_REQUEST, CONFIRM_ACCEPTED, CONFIRM_OPEN_ACCOUNT, LENDING_EXCHANGE, OPENED,
                             UC_CONSUMER, UC_CONSUMERS, UC_OPEN_ACCOUNT_LINKS)
from shared.db import unit_of_work
from shared.errors import AppError, Conflict, Unavailable
from shared.http import ServiceClient, ServiceUnreachable, json_object
from shared.outbox import enqueue

from lending import schedules
from lending.orders import known_order
from lending.repository import borrows, orders

log = logging.getLogger(__name__)


class UserCenter:
    """user-center's additions for lending."""

    def __init__(self, base_url: str, config: dict):
        self.client = ServiceClient(base_url, config, timeout=config["SERVICE_TIMEOUT_SECONDS"])

    def find_or_create(self, mobile: str, fullname: str, id_number: str) -> dict:
        """``{userNo, depositoryStatus}`` of the user with this mobile, created when there is none;
        :class:`Conflict` when that mobile belongs to another person."""
        return self._result("POST", UC_CONSUMERS, {"mobile": mobile, "fullname": fullname, "idNumber": id_number})

    def depository_status(self, user_no: str) -> str:
        """``NONE``, ``PENDING``, ``OPENED`` or ``FAILED``."""
        return self._result("GET", UC_CONSUMER.format(userNo=user_no), None)["depositoryStatus"]

    def open_account_link(self, body: dict) -> dict:
        """``{url, expiresAt}``: a one-time link signing the borrower in and sending the browser to the bank."""
        return self._result("POST", UC_OPEN_ACCOUNT_LINKS, body)

    def _result(self, method: str, path: str, body: dict | None) -> dict:
        try:
            response = self.client.request(method, path, json=body)
        except ServiceUnreachable as exc:
            raise Unavailable(f"user-center unreachable ({exc.kind}), try again") from exc
        answer = json_object(response.content)
        if response.status_code == 409:
            raise Conflict(f"user-center: {answer.get('msg') or 'conflict'}")
        result = answer.get("result")
        if response.status_code in (200, 201) and answer.get("code") == 0 and isinstance(result, dict):
            return result
        if response.status_code >= 500 or response.status_code == 401:
            raise Unavailable(f"user-center answered {response.status_code}, try again")
        raise AppError(f"user-center refused: {answer.get('msg') or response.status_code}", status=502, code=952)


def confirm(deps, order_no: str) -> dict:
    """The borrower confirms the approved order: ``{status: ACCEPTED, borrowNo}`` or ``{status:
    OPEN_ACCOUNT, openAccountUrl}``."""
    with deps.pool.connection() as conn:
        order = known_order(conn, order_no)
        card = orders.default_card(conn, order["id_number_md5"])
        if order["status"] == orders.BORROW_CREATED:
            return {"status": CONFIRM_ACCEPTED, "borrowNo": borrows.by_order_id(conn, order["id"])["borrow_no"]}
    if order["status"] != orders.APPROVED:
        raise Conflict(f"order {order_no} cannot be confirmed in status {order['status']}")
    user = deps.user_center.find_or_create(order["mobile"], order["name"], order["id_number"])
    if user["depositoryStatus"] == OPENED:
        return {"status": CONFIRM_ACCEPTED, "borrowNo": create_borrow(deps, order["id"], user["userNo"])["borrow_no"]}
    if card is None:
        raise Conflict("bind a card first: the depository account is opened with the default card")
    with unit_of_work(deps.pool) as conn:
        orders.set_user_no(conn, order["id"], user["userNo"])
        orders.log_confirmation(conn, order, user["userNo"], deps.config["STATE_CHECK_SECONDS"])
    link = deps.user_center.open_account_link({
        "userNo": user["userNo"], "fullname": order["name"], "idNumber": order["id_number"],
        "mobile": order["mobile"], "bankCode": card["bank_code"], "cardNumber": card["card_number"], "role": "B",
        "validMinutes": deps.config["OPEN_LINK_MINUTES"]})
    return {"status": CONFIRM_OPEN_ACCOUNT, "openAccountUrl": link["url"]}


def create_borrow(deps, order_id: int, user_no: str) -> dict:
    """Create the order's borrow (0) and set the order to 1, with the risk review's audit.request, in
    one transaction; the borrow that exists already when another caller was first."""
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        order = orders.by_id(conn, order_id, lock=True)
        if order["status"] == orders.BORROW_CREATED:
            return borrows.by_order_id(conn, order_id)
        if order["status"] != orders.APPROVED:
            raise Conflict(f"order {order['order_no']} cannot be confirmed in status {order['status']}")
        orders.advance(conn, order_id, orders.APPROVED, orders.BORROW_CREATED, user_no=user_no)
        amount = order["approved_amount"]
        borrow = borrows.insert(conn, {
            "borrow_no": "BRW_" + uuid.uuid4().hex.upper(), "order_id": order_id, "order_no": order["order_no"],
            "user_no": user_no, "amount": amount, "term": order["loan_term"],
            "annual_rate": Decimal(config["ANNUAL_RATE"]), "repayment_way": config["REPAYMENT_WAY"],
            "project_no": "PRJ_" + uuid.uuid4().hex.upper(),
            "service_fee": schedules.service_fee(amount, config["SERVICE_FEE_RATE_FRACTION"])})
        orders.close_confirmation(conn, order_id)
        enqueue(conn, LENDING_EXCHANGE, AUDIT_REQUEST, {
            "borrowNo": borrow["borrow_no"], "orderNo": order["order_no"], "userNo": user_no, "name": order["name"],
            "idNumber": order["id_number"], "mobile": order["mobile"], "loanAmount": amount,
            "loanTerm": order["loan_term"]}, f"{AUDIT_REQUEST}:{borrow['borrow_no']}")
    log.info("order %s: borrow %s created", order["order_no"], borrow["borrow_no"])
    return borrow


def check_depository_states(deps) -> int:
    """Confirmations whose borrower has opened the account since become borrows; the others are
    checked again after STATE_CHECK_SECONDS. Also expires orders nobody confirmed in time."""
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        expired = orders.expire_unconfirmed(conn, config["JOB_BATCH"])
        for order in expired:
            orders.close_confirmation(conn, order["id"])
        due = orders.claim_confirmations(conn, config["JOB_BATCH"], config["LEASE_SECONDS"])
    for waiting in due:
        try:
            opened = deps.user_center.depository_status(waiting["user_no"]) == OPENED
            if opened:
                create_borrow(deps, waiting["order_id"], waiting["user_no"])
        except AppError as exc:  # user-center down or the order moved on: checked again later
            log.info("confirmation of %s not settled yet: %s", waiting["order_no"], exc.msg)
            opened = False
        if not opened:
            with unit_of_work(deps.pool) as conn:
                orders.check_again_later(conn, waiting["order_id"], config["STATE_CHECK_SECONDS"])
    return len(due) + len(expired)
