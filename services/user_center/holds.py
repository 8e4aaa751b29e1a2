"""Withdraw holds that must be given back, durably: recorded first, refunded until the ledger confirms.

A withdraw holds amount + commission in the ledger before the agent signs it. When anything
fails after the hold (the agent refuses or is down), the request never reached the user, so the
hold is released: a ``withdraw_hold_release`` row is committed, then the refund (idempotent by
trade_no = requestNo) is tried at once. If the ledger is unreachable then, the row stays and the
sweep (:mod:`user_center.sweep`: the GatewayNotifyConsumer's loop and the operator commands)
retries it with back-off until it succeeds; only then is the withdraw record marked failed.
"""
import logging
from collections import Counter

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.db import unit_of_work
from shared.errors import AppError, NotFound
from shared.ledger_client import LedgerClient

from user_center.repository import holds, requests

log = logging.getLogger(__name__)
RELEASED, RETRYING = "released", "retrying"


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
        except (psycopg.Error, PoolTimeout):  # database down: still try now; the sweep adopts orphans later
            log.exception("withdraw %s: release of the hold could not be recorded", request_no)
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
        note = None
        try:
            self.ledger.refund(user_no, request_no, held)
        except NotFound:
            note = "nothing was held"  # the deduct never happened
        except AppError as exc:
            delay = min(self.retry_base * 2 ** attempts, self.retry_max)
            with unit_of_work(self.pool) as conn:
                holds.mark_attempt_failed(conn, request_no, exc.msg, delay)
            log.error("withdraw %s: hold of %s fen not released yet (attempt %s, retry in %ss): %s", request_no,
                      held, attempts + 1, delay, exc.msg,
                      extra={"fields": {"alert": "withdraw-hold-stuck", "request_no": request_no}})
            return RETRYING
        with unit_of_work(self.pool) as conn:
            holds.mark_released(conn, request_no, note)
            requests.settle(conn, "WITHDRAW", request_no, requests.FAILED)
        log.info("withdraw %s: hold of %s fen released", request_no, held)
        return RELEASED
