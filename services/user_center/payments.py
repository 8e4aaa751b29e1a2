"""Recharge and withdraw requests, the user's records, and the wallet balance."""
from psycopg_pool import ConnectionPool

from shared.contract import OPENED, RECHARGE, WITHDRAW, new_request_no
from shared.db import unit_of_work
from shared.errors import AppError, Conflict, NotFound, Unprocessable
from shared.ledger_client import LedgerClient
from shared.money import format_fen

from user_center.accounts import load_consumer
from user_center.agent_client import AgentClient
from user_center.holds import HoldReleaser
from user_center.repository import requests
from user_center.sweep import fail_unsent

NOT_OPENED = "open your depository account first"


def _store(pool: ConnectionPool, insert, user_no: str, *values) -> dict:
    """Store a pending money request with ``insert`` (one statement); the consumer's bound card.
    401 when the user no longer exists, 409 before the depository account is open."""
    with pool.connection() as conn:
        consumer = insert(conn, *values)
        if consumer is None:
            load_consumer(conn, user_no)
            raise Conflict(NOT_OPENED)
    return consumer


def recharge(pool: ConnectionPool, agent: AgentClient, user_no: str, amount: int, callback_url: str) -> dict:
    """Store a pending recharge record, then return the agent's signed RECHARGE GatewayRequest."""
    request_no = new_request_no()
    _store(pool, requests.insert_recharge, user_no, request_no, user_no, amount)
    try:
        return agent.recharge({"requestNo": request_no, "userNo": user_no, "amount": format_fen(amount),
                               "callbackUrl": callback_url})
    except AppError as exc:
        with unit_of_work(pool) as conn:
            fail_unsent(conn, RECHARGE, {"request_no": request_no, "user_no": user_no}, exc.msg)
        raise


def withdraw(pool: ConnectionPool, agent: AgentClient, ledger: LedgerClient, releaser: HoldReleaser, user_no: str,
             amount: int, commission: int, callback_url: str) -> dict:
    """Hold amount + commission in the ledger, then return the agent's signed WITHDRAW GatewayRequest.

    The record is stored before the hold so a hold never exists without its record. The ledger's own
    refusal of the deduct (insufficient balance, no wallet) deletes the record: nothing was held or
    requested. Any other failure (the deduct's answer did not come, so it may still land; the agent
    refuses or is down) releases the hold for good (durably: see :mod:`user_center.holds`) and marks
    the record failed.
    """
    request_no = new_request_no()
    held = amount + commission
    consumer = _store(pool, requests.insert_withdraw, user_no, request_no, user_no, amount, commission)
    try:
        ledger.deduct(user_no, request_no, held)
    except (Unprocessable, NotFound):  # the ledger's answer: nothing was held
        with unit_of_work(pool) as conn:
            requests.delete_pending(conn, WITHDRAW, request_no)
        raise Unprocessable(f"insufficient balance for {format_fen(amount)} plus commission "
                            f"{format_fen(commission)}") from None
    except AppError as exc:  # no answer (or a refusal): the deduct may still land, so release it for good
        releaser.release_now(user_no, request_no, held, f"ledger deduct failed: {exc.msg}")
        raise
    body = {"requestNo": request_no, "userNo": user_no, "amount": format_fen(amount),
            "commission": format_fen(commission), "cardNumber": consumer["card_number"],
            "mobile": consumer["card_mobile"], "callbackUrl": callback_url}
    try:
        return agent.withdraw(body)
    except AppError as exc:
        releaser.release_now(user_no, request_no, held, f"agent refused: {exc.msg}")
        raise


def _record_view(row: dict) -> dict:
    record = {"requestNo": row["request_no"], "amount": format_fen(row["amount"]),
              "callbackStatus": row["callback_status"], "createDate": row["created_at"].isoformat()}
    if "commission" in row:
        record["commission"] = format_fen(row["commission"])
    return record


def list_records(pool: ConnectionPool, service_name: str, user_no: str, page_no: int, size: int) -> dict:
    """``{total, records}`` of the user's own recharge or withdraw records, newest first."""
    with pool.connection() as conn:
        total, rows = requests.page(conn, service_name, user_no, page_no, size)
    return {"total": total, "records": [_record_view(row) for row in rows]}


def find_record(pool: ConnectionPool, service_name: str, user_no: str, request_no: str) -> dict:
    """The user's own recharge or withdraw record; :class:`NotFound` when unknown or another user's."""
    with pool.connection() as conn:
        row = requests.find_own(conn, service_name, user_no, request_no)
    if row is None:
        raise NotFound("no such record among yours")
    return _record_view(row)


def balance(pool: ConnectionPool, ledger: LedgerClient, user_no: str) -> dict:
    """The wallet balance from the ledger; ``"0.00"`` before the account is opened."""
    with pool.connection() as conn:
        opened = load_consumer(conn, user_no)["depository_status"] == OPENED
    fen = 0
    if opened:
        try:
            fen = ledger.balance(user_no)["balance"]
        except NotFound:
            fen = 0
    return {"userNo": user_no, "balance": format_fen(fen), "currency": "CNY"}
