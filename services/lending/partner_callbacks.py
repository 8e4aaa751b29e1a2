"""Partner callbacks: written in the transaction of the state change they announce (an outbox), then
delivered in a fresh envelope until the partner answers ``{"code": 0}``.

Each eventId is derived from what it announces (``loan.succeeded:<orderNo>``, ``repay.result:<repayNo>``,
...), so one event can never be written twice and the partner drops repeats by it. Delivery leases a
batch with ``for update skip locked`` (any number of senders may run), one callback per order at a
time, oldest first, and backs off exponentially up to CALLBACK_RETRY_MAX_SECONDS, for ever: a partner
that is down for hours gets every callback once it is back. The partner is outside the platform:
these calls never carry the platform's service token.
"""
import json
import logging
import time

import urllib3
from urllib3.exceptions import HTTPError

from shared.backoff import backoff
from shared.contract import (AUDIT_REFUSED, CREDIT_REJECTED, LOAN_DISBURSED, LOAN_REFUSED, LOAN_REJECTED,
                             LOAN_SUCCEEDED, PARTNER_SUCCESS, REPAY_OVERDUE, REPAY_RESULT)
from shared.db import unit_of_work
from shared.http import json_object
from shared.partner_envelope import seal

from lending.orders import REFUSAL_TEXT
from lending.repository import callbacks as repo

log = logging.getLogger(__name__)


class Unacknowledged(Exception):
    """The partner did not acknowledge a callback; it is delivered again later."""


class PartnerCallbacks:
    """Delivers callbacks to ``PARTNER_CALLBACK_URL`` in envelopes signed with the partner's secret."""

    def __init__(self, config: dict):
        self.url = config["PARTNER_CALLBACK_URL"]
        self.app_id, self.secret = config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"]
        seconds = config["PARTNER_TIMEOUT_SECONDS"]
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=urllib3.Timeout(connect=seconds, read=seconds))

    def deliver(self, biz: dict) -> None:
        """POST one callback in a freshly stamped envelope; returns only once the partner answered HTTP 200
        with ``{"code": 0}`` (an integer), else raises :class:`Unacknowledged` with what it said."""
        envelope = seal(biz, self.app_id, self.secret, int(time.time() * 1000))
        try:
            response = self.http.request("POST", self.url, body=json.dumps(envelope, ensure_ascii=False),
                                         headers={"Content-Type": "application/json"}, redirect=False)
        except HTTPError as exc:
            raise Unacknowledged(exc.__class__.__name__) from exc
        code = json_object(response.data).get("code")
        if response.status != 200 or type(code) is not int or code != PARTNER_SUCCESS:
            raise Unacknowledged(f"HTTP {response.status}: {response.data[:200]!r}")


def credit_rejected(conn, order_no: str, can_loan_time: str) -> None:
    _enqueue(conn, f"{CREDIT_REJECTED}:{order_no}", CREDIT_REJECTED, order_no,
             {"status": AUDIT_REFUSED, "reason": REFUSAL_TEXT, "canLoanTime": can_loan_time})


def loan_rejected(conn, order_no: str, reason: str) -> None:
    _enqueue(conn, f"{LOAN_REJECTED}:{order_no}", LOAN_REJECTED, order_no, {"status": LOAN_REFUSED, "reason": reason})


def loan_succeeded(conn, order_no: str, loan: dict, plans: list[dict]) -> None:
    _enqueue(conn, f"{LOAN_SUCCEEDED}:{order_no}", LOAN_SUCCEEDED, order_no,
             {"status": LOAN_DISBURSED, **loan, "plans": plans})


def repay_overdue(conn, order_no: str, line: dict) -> None:
    _enqueue(conn, f"{REPAY_OVERDUE}:{order_no}:{line['period']}", REPAY_OVERDUE, order_no,
             {"period": line["period"], "dueDate": line["dueDate"], "overdueDays": line["overdueDays"],
              "penalty": line["penalty"], "amount": line["total"]})


def repay_result(conn, order_no: str, repayment: dict, plans: list[dict]) -> None:
    biz = {"repayNo": repayment["repay_no"], "status": repayment["status"], "amount": repayment["amount"],
           "periods": repayment["periods"], "plans": plans}
    if repayment["reason"]:
        biz["reason"] = repayment["reason"]
    _enqueue(conn, f"{REPAY_RESULT}:{repayment['repay_no']}", REPAY_RESULT, order_no, biz)


def _enqueue(conn, event_id: str, event: str, order_no: str, details: dict) -> None:
    repo.enqueue(conn, event_id, event, order_no, {"eventId": event_id, "event": event, "orderNo": order_no, **details})


def deliver_due(deps) -> int:
    """Deliver every callback due now (a batch); return how many were attempted."""
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        # the lease outlasts a batch of slow answers, so another sender never takes one still in hand
        due = repo.claim_due(conn, config["CALLBACK_BATCH"],
                             config["LEASE_SECONDS"] + config["CALLBACK_BATCH"] * config["PARTNER_TIMEOUT_SECONDS"])
    for callback in due:
        try:
            deps.partner_callbacks.deliver(callback["biz"])
        except Unacknowledged as exc:
            delay = backoff(callback["attempts"], config["CALLBACK_RETRY_BASE_SECONDS"],
                            config["CALLBACK_RETRY_MAX_SECONDS"])
            with unit_of_work(deps.pool) as conn:
                repo.retry_later(conn, callback["id"], delay, str(exc))
            log.info("callback %s attempt %d not acknowledged (%s); again in %.1fs", callback["event_id"],
                     callback["attempts"], exc, delay)
            continue
        with unit_of_work(deps.pool) as conn:
            repo.mark_delivered(conn, callback["id"])
    return len(due)
