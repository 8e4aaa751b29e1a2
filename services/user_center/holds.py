"""Withdraw holds that must be given back, durably: recorded first, released until the ledger confirms.

A withdraw holds amount + commission in the ledger (a deduct, trade_no = requestNo) before the agent
signs it. When anything fails after the deduct was sent (its answer did not come, the agent refuses or
is down), the request never reached the user, so the hold is released: a ``withdraw_hold_release`` row
is committed, then the ledger's release (``/account/balance/release``) is tried at once. A release is
final whatever the order in which it and the deduct reach the ledger: a deduct already there is
refunded, one still on its way is refused for good. A 404 of a refund would prove nothing while the
deduct may still be in flight, so a refund is never used for this. If the ledger does not answer, the
row stays and the sweep (:mod:`user_center.sweep`: the GatewayNotifyConsumer's loop and the operator
commands) retries it with back-off until it does; only then is the withdraw record marked failed. So a
hold whose outcome user-center could not learn ends either held with the request sent to the agent, or
not held with the record failed.
"""
import logging
from collections import Counter

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.backoff import backoff
from shared.contract import WITHDRAW
from shared.db import unit_of_work
from shared.errors import AppError
from shared.ledger_client import LedgerClient

from user_center.repository import holds, requests

log = logging.getLogger(__name__)
RELEASED, RETRYING, KEPT = "released", "retrying", "kept"


class HoldReleaser:
    """Releases withdraw holds; one instance per process (web app, consumer, operator command)."""

    def __init__(self, pool: ConnectionPool, ledger: LedgerClient, config: dict):
        self.pool = pool
        self.ledger = ledger
        self.retry_base = config["HOLD_RETRY_BASE_SECONDS"]
        self.retry_max = config["HOLD_RETRY_MAX_SECONDS"]
        self.batch = config["HOLD_SWEEP_BATCH"]

    def release_now(self, user_no: str, request_no: str, held: int, reason: str) -> bool:
        """Record that the hold must go back, then try once; True when it is released."""
        try:
            with unit_of_work(self.pool) as conn:
                holds.record(conn, request_no, user_no, held, reason)
        except (psycopg.Error, PoolTimeout):  # database down: the sweep adopts the orphan once it is back
            log.exception("withdraw %s: release of the hold could not be recorded", request_no)
            return False
        return self._release(request_no, user_no, held, attempts=0) == RELEASED

    def release_due(self, now_all: bool = False) -> Counter:
        """Retry every due release (every waiting one with ``now_all``); stops early while the ledger is down."""
        outcomes = Counter()
        with unit_of_work(self.pool) as conn:
            due = holds.claim_due(conn, self.retry_base, self.batch, due_only=not now_all)
        for row in due:
            outcome = self._release(row["request_no"], row["user_no"], row["amount"], row["attempts"])
            outcomes[outcome] += 1
            if outcome == RETRYING:
                break  # the ledger is down: the rest keep their lease and come back later
        return outcomes

    def _release(self, request_no: str, user_no: str, held: int, attempts: int) -> str:
        """Release the hold, the ledger called with no transaction open.

        First, under the withdraw record's lock in one short transaction: a withdraw the bank paid (or
        whose payment is being applied) keeps its hold (it is the debit); any other claims the failure
        (``applying_status``), so that no payment of it can be applied from then on. Then the ledger's
        release, then the row closed and the record failed in a second transaction. A release that fails
        leaves the claim: it may have landed, so the withdraw stays decided for failure.
        """
        try:
            with unit_of_work(self.pool) as conn:
                record = requests.lock(conn, WITHDRAW, request_no)
                if requests.SUCCESS in (record["callback_status"], record["applying_status"]):
                    holds.mark_released(conn, request_no, KEPT)
                    log.error("withdraw %s: the bank paid it, so its hold of %s fen stays although its release was "
                              "asked", request_no, held,
                              extra={"fields": {"alert": "withdraw-hold-kept", "request_no": request_no}})
                    return KEPT
                requests.claim(conn, WITHDRAW, request_no, requests.FAILED)
            released = self.ledger.release(user_no, request_no, held)["released"]
            with unit_of_work(self.pool) as conn:
                holds.mark_released(conn, request_no, released)
                requests.settle(conn, WITHDRAW, request_no, requests.FAILED)
        except AppError as exc:
            self._postpone(request_no, held, attempts, exc.msg)
            return RETRYING
        except (psycopg.Error, PoolTimeout):  # the row stays unreleased: the sweep comes back to it
            log.exception("withdraw %s: hold of %s fen not released yet: database unavailable", request_no, held)
            return RETRYING
        log.info("withdraw %s: hold of %s fen released (%s)", request_no, held, released)
        return RELEASED

    def _postpone(self, request_no: str, held: int, attempts: int, error: str) -> None:
        """Count a failed release and schedule the next one, with back-off."""
        delay = backoff(attempts + 1, self.retry_base, self.retry_max)
        log.error("withdraw %s: hold of %s fen not released yet (attempt %s, retry in %ss): %s", request_no,
                  held, attempts + 1, delay, error,
                  extra={"fields": {"alert": "withdraw-hold-stuck", "request_no": request_no}})
        try:
            with unit_of_work(self.pool) as conn:
                holds.mark_attempt_failed(conn, request_no, error, delay)
        except (psycopg.Error, PoolTimeout):  # its lease runs out and the sweep takes it again
            log.exception("withdraw %s: the failed release could not be counted", request_no)
