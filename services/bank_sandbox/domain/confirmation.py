"""The user's confirmation at the bank: one transaction moves the money, finishes the request and
queues the signed notification."""
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.db import unit_of_work
from shared.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

from bank_sandbox.domain import notifications as notes
from bank_sandbox.domain.gateway_request import RECHARGE, REGISTER, GatewayRequest
from bank_sandbox.domain.outbox import enqueue_wanxin
from bank_sandbox.domain.passwords import check_policy, hash_password, verify_password
from bank_sandbox.repositories import requests, transactions, users

SUCCESS, FAIL = "success", "fail"


@dataclass(frozen=True)
class Confirmation:
    """The bank's answer to a confirmation, and where the browser goes next."""

    request_no: str
    status: int
    code: str
    msg: str
    redirect_url: str

    def as_json(self) -> dict:
        return {"requestNo": self.request_no, "status": self.status, "code": self.code, "msg": self.msg,
                "redirectUrl": self.redirect_url}


def record(pool, request: GatewayRequest) -> dict:
    """Remember a request the browser brought (idempotent by requestNo); another content -> 409.

    A new request gets a random form token that the bank page's form must post back.
    """
    with unit_of_work(pool) as conn:
        requests.insert_if_new(conn, request.service_name, request.platform_no, request.payload,
                               request.amount, request.commission, secrets.token_urlsafe(24))
        row = requests.get(conn, request.request_no)
    if row["service_name"] != request.service_name or row["payload"] != request.payload:
        raise Conflict(f"requestNo {request.request_no} was already used for a different request")
    return row


def form_request(pool, request_no: str, token: str) -> dict:
    """The request a bank-page form posts for, after checking the form's per-request token."""
    with unit_of_work(pool) as conn:
        row = requests.get(conn, request_no)
    if row is None:
        raise NotFound(f"unknown request {request_no}")
    if not hmac.compare_digest(row["form_token"].encode(), token.encode()):
        raise Forbidden("this form has expired or does not belong to the request; open the bank page again")
    return row


def confirm(pool, config: dict, request_no: str, password: str | None, outcome: str = SUCCESS) -> Confirmation:
    """Settle a pending request with the user's transaction password.

    Wrong password -> 401 and nothing changes; a final request -> 409. A business refusal (too little
    money, account missing) is a final failure (status 2), notified like a success. ``password``
    None is the bank page's cancel button: allowed only with outcome ``fail``.
    """
    if password is None and outcome != FAIL:
        raise BadRequest("the transaction password is required")
    with unit_of_work(pool) as conn:
        row = requests.lock(conn, request_no)
        if row is None:
            raise NotFound(f"unknown request {request_no}")
        if row["status"] != 0:
            raise Conflict(f"request {request_no} is already final (status {row['status']})")
        settle = _open_account if row["service_name"] == REGISTER else _move_money
        result = settle(conn, config, row, password, outcome)
        status = 1 if result == notes.SUCCESS else 2
        body = notes.notification(row["service_name"], row["payload"], status, result)
        requests.finish(conn, request_no, status, *result, body)
        enqueue_wanxin(conn, config, request_no, notes.signed(config, row["service_name"], body))
    code, msg = result
    return Confirmation(request_no, status, code, msg, callback_redirect(row["payload"]["callbackUrl"], code, msg))


def _open_account(conn, config, row, password, outcome):
    if users.lock(conn, row["user_no"]) is not None:
        return notes.ALREADY_OPENED
    if outcome == FAIL:
        return notes.DECLINED
    check_policy(password)
    users.insert(conn, row["payload"], hash_password(password, config["SANDBOX_SCRYPT_N"]), config["CARD_BALANCE_FEN"])
    return notes.SUCCESS


def _move_money(conn, config, row, password, outcome):
    """Recharge: card -> depository account. Withdraw: depository account -> card."""
    user = _authenticated_user(conn, row, password)
    if user is None:
        return notes.NOT_OPENED
    if outcome == FAIL:
        return notes.DECLINED
    amount, commission = row["amount"], row["commission"] or 0
    if row["service_name"] == RECHARGE:
        card, bank, shortage = -amount, amount, notes.CARD_INSUFFICIENT
    else:
        # The commission leaves the depository account with the amount; only the amount reaches the card.
        card, bank, shortage = amount, -(amount + commission), notes.BANK_INSUFFICIENT
    if user["card_balance"] + card < 0 or user["bank_balance"] + bank < 0:
        return shortage
    transactions.insert(conn, row, commission, users.move(conn, user["user_no"], card, bank))
    return notes.SUCCESS


def _authenticated_user(conn, row, password) -> dict | None:
    """The request's user, locked, after checking the transaction password (None: a cancel, nothing
    to check); None when the account is not opened."""
    user = users.lock(conn, row["user_no"])
    if user is not None and password is not None and not verify_password(password, user["password_hash"]):
        raise Unauthorized("wrong transaction password")
    return user


def callback_redirect(callback_url: str, code: str, msg: str) -> str:
    """``callbackUrl`` with ``code`` and ``msg`` added.

    A fragment that is a client-side route (``#/path?x=1``) gets them in its own query, where a
    single-page app reads them; otherwise they join the URL's query and the fragment is kept.
    """
    parts = urlsplit(callback_url)
    added = [("code", code), ("msg", msg)]
    route, _, route_query = parts.fragment.partition("?")
    if route.startswith("/") or route.startswith("!/"):
        fragment = route + "?" + _merged_query(route_query, added)
        return urlunsplit(parts._replace(fragment=fragment))
    return urlunsplit(parts._replace(query=_merged_query(parts.query, added)))


def _merged_query(query: str, added: list[tuple[str, str]]) -> str:
    names = {name for name, _ in added}
    kept = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name not in names]
    return urlencode(kept + added)
