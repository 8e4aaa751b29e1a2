"""The user's confirmation at the bank: one transaction moves the money, finishes the request and
queues the signed notification (docs/bank_sandbox.md, "Wanxin rules").

Expiry is decided under the request's row lock by the database's clock: a confirmation checks it
after taking the lock, and a query that finds the request pending after its expiry closes it as
failed under the same lock. So once the bank has answered, after a request's expiry, that it does
not know the request or that it failed, no confirmation of it can ever succeed.
"""
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from typing import TYPE_CHECKING

from shared import contract
from shared.db import unit_of_work
from shared.errors import AppError, BadRequest, Conflict, Forbidden, Locked, NotFound, Unauthorized

from bank_sandbox import notifications as notes
from bank_sandbox.gateway_requests import GatewayRequest, RequestExpired
from bank_sandbox.outbox import enqueue_wanxin
from bank_sandbox.passwords import check_policy, hash_password, verify_password
from bank_sandbox.repository import platform_accounts, requests, transactions, users

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

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
                               request.amount, request.commission, request.expires_at, secrets.token_urlsafe(24))
        row = requests.get(conn, request.request_no)
    if row["service_name"] != request.service_name or row["payload"] != request.payload:
        raise Conflict(f"requestNo {request.request_no} was already used for a different request")
    return row


def form_request(pool, request_no: str, token: str) -> dict:
    """The request a bank-page form posts for, after checking the form's per-request token."""
    with unit_of_work(pool) as conn:
        row = requests.get(conn, request_no)
    if row is None or row["form_token"] is None:  # no form for a transaction service's request
        raise NotFound(f"unknown request {request_no}")
    if not hmac.compare_digest(row["form_token"].encode(), token.encode()):
        raise Forbidden("this form has expired or does not belong to the request; open the bank page again")
    return row


def account_holder(pool, user_no: str) -> dict | None:
    """The bank user a request is for (None before the account is opened), as the bank page shows them."""
    with unit_of_work(pool) as conn:
        return users.get(conn, user_no)


def confirm(pool, config: dict, keys: "Keys", request_no: str, password: str | None,
            outcome: str = SUCCESS) -> Confirmation:
    """Settle a pending request with the user's transaction password.

    Wrong password -> 401 and only the user's count of wrong passwords changes; too many in a row
    lock the user's confirmations (423) for SANDBOX_PASSWORD_LOCK_SECONDS. A final request -> 409; an
    expired one -> :class:`RequestExpired` and nothing changes. A business refusal (too little money,
    account missing) is a final failure (status 2), notified like a success. ``password`` None is the
    bank page's cancel button: allowed only with outcome ``fail``.
    """
    if password is None and outcome != FAIL:
        raise BadRequest("the transaction password is required")
    refusal = None
    with unit_of_work(pool) as conn:
        row = requests.lock(conn, request_no)
        if row is None:
            raise NotFound(f"unknown request {request_no}")
        if row["status"] != contract.STATUS_PENDING:
            raise Conflict(f"request {request_no} is already final (status {row['status']})")
        if requests.expired(conn, row):
            raise RequestExpired(f"request expired at {row['payload']['expired']} (China Standard Time)")
        settle = _open_account if row["service_name"] == contract.PERSONAL_REGISTER else _move_money
        result = settle(conn, config, row, password, outcome)
        if isinstance(result, AppError):
            refusal = result  # committed: the count of wrong passwords; the request stays pending
        else:
            _finish(conn, config, keys, row, result)
    if refusal is not None:
        raise refusal
    code, msg = result
    return Confirmation(request_no, notes.status_of(result), code, msg,
                        callback_redirect(row["payload"]["callbackUrl"], code, msg))


def close_expired(conn, config: dict, keys: "Keys", row: dict) -> dict:
    """Fail a pending request whose expiry has passed (the caller holds its row lock and has checked);
    its failure is notified like any other. Returns the row as it now is."""
    _finish(conn, config, keys, row, notes.EXPIRED)
    return requests.get(conn, row["request_no"])


def _finish(conn, config: dict, keys: "Keys", row: dict, result: tuple[str, str]) -> None:
    """Make the request final with ``result`` and queue its signed notification, in the caller's transaction."""
    status = notes.status_of(result)
    body = notes.notification(row["service_name"], row["payload"], status, result)
    requests.finish(conn, row["request_no"], status, *result, body)
    enqueue_wanxin(conn, config, row["request_no"], notes.signed(config, keys, row["service_name"], body))


def _open_account(conn, config, row, password, outcome):
    if users.lock(conn, row["user_no"]) is not None:
        return notes.ALREADY_OPENED
    if outcome == FAIL:
        return notes.DECLINED
    payload = row["payload"]
    check_policy(password, (payload["idNumber"], payload["mobile"], payload["cardNumber"]))
    users.insert(conn, payload, hash_password(password, config["SANDBOX_SCRYPT_N"]), config["CARD_BALANCE_FEN"])
    return notes.SUCCESS


def _move_money(conn, config, row, password, outcome):
    """Recharge: card -> depository account. Withdraw: depository account -> card, and the commission to the
    platform's own account."""
    user = users.lock(conn, row["user_no"])
    if user is not None and password is not None:  # None: the page's cancel, nothing to check
        refusal = _check_password(conn, config, user, password)
        if refusal is not None:
            return refusal
    if user is None:
        return notes.NOT_OPENED
    if outcome == FAIL:
        return notes.DECLINED
    amount, commission = row["amount"], row["commission"] or 0
    if row["service_name"] == contract.RECHARGE:
        card, bank, shortage = -amount, amount, notes.CARD_INSUFFICIENT
    else:
        # The commission leaves the depository account with the amount; only the amount reaches the card.
        card, bank, shortage = amount, -(amount + commission), notes.BANK_INSUFFICIENT
    if user["card_balance"] + card < 0 or user["bank_balance"] + bank < 0:
        return shortage
    balances = users.move(conn, user["user_no"], card, bank)
    if commission:
        platform_accounts.credit(conn, row["platform_no"], commission)
    transactions.insert(conn, {**{name: row[name] for name in ("request_no", "platform_no", "service_name", "user_no",
                                                                "amount")},
                               "commission": commission, "balances": balances})
    return notes.SUCCESS


def _check_password(conn, config: dict, user: dict, password: str) -> AppError | None:
    """None when ``password`` is the user's (their count of wrong ones starts again); otherwise the
    refusal, after counting the wrong password: SANDBOX_PASSWORD_MAX_FAILURES in a row lock the user's
    confirmations for SANDBOX_PASSWORD_LOCK_SECONDS, whoever tries and from wherever."""
    now = requests.now(conn)
    if user["locked_until"] is not None and now < user["locked_until"]:
        return _locked(user["locked_until"], now, config["SANDBOX_TIMEZONE"])
    if verify_password(password, user["password_hash"]):
        if user["failed_passwords"]:
            users.set_password_failures(conn, user["user_no"], 0, None)
        return None
    failures = user["failed_passwords"] + 1
    if failures >= config["SANDBOX_PASSWORD_MAX_FAILURES"]:
        locked_until = now + timedelta(seconds=config["SANDBOX_PASSWORD_LOCK_SECONDS"])
        users.set_password_failures(conn, user["user_no"], 0, locked_until)
        return _locked(locked_until, now, config["SANDBOX_TIMEZONE"])
    users.set_password_failures(conn, user["user_no"], failures, None)
    return Unauthorized(f"wrong transaction password ({config['SANDBOX_PASSWORD_MAX_FAILURES'] - failures}"
                        " tries left before it is locked)")


def _locked(until, now, zone: str) -> Locked:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    local = until.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")
    return Locked(f"too many wrong transaction passwords: locked until {local} (bank time)",
                  headers={"Retry-After": str(seconds)})


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
