"""Withdraw holds that must be given back, durably: recorded first, refunded until the ledger confirms.

A withdraw holds amount + commission in the ledger before the agent signs it. When anything
fails after the hold (the agent refuses or is down), the request never reached the user, so the
hold is released: a ``withdraw_hold_release`` row is committed, then the refund (idempotent by
trade_no = requestNo) is tried at once. If the ledger is unreachable then, the row stays and the
sweep (in the GatewayNotifyConsumer's loop, and ``python -m user_center holds release``) retries
it with back-off until it succeeds; only then is the withdraw record marked failed.

The sweep also adopts orphans: pending withdraws older than HOLD_ORPHAN_SECONDS without a release
row that the agent does not know (so the bank can never settle them), e.g. when even the release
row could not be written because the database was down at that moment.
"""
import argparse
import json
import logging
import time
from collections import Counter

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.db import create_pool, unit_of_work
from shared.errors import AppError, NotFound, Unavailable
from shared.ledger_client import LedgerClient

from user_center.agent_client import AgentClient
from user_center.repository import holds, requests

log = logging.getLogger(__name__)
RELEASED, RETRYING, ADOPTED = "released", "retrying", "adopted"


class HoldReleaser:
    """Releases withdraw holds; one instance per process (web app, consumer, operator command)."""

    def __init__(self, pool: ConnectionPool, ledger: LedgerClient, agent: AgentClient, config: dict):
        self.pool = pool
        self.ledger = ledger
        self.agent = agent
        self.retry_base = config["HOLD_RETRY_BASE_SECONDS"]
        self.retry_max = config["HOLD_RETRY_MAX_SECONDS"]
        self.orphan_age = config["HOLD_ORPHAN_SECONDS"]
        self.batch = config["HOLD_SWEEP_BATCH"]
        self.agent_knows: dict[str, float] = {}  # orphan candidates the agent has: not asked again for a while

    def release_now(self, user_no: str, request_no: str, held: int, reason: str) -> bool:
        """Record that the hold must go back, then try once; True when it is released."""
        try:
            with unit_of_work(self.pool) as conn:
                holds.record(conn, request_no, user_no, held, reason)
        except (psycopg.Error, PoolTimeout):  # database down: still try now; the sweep adopts orphans later
            log.exception("withdraw %s: release of the hold could not be recorded", request_no)
        return self._release(request_no, user_no, held, attempts=0) == RELEASED

    def sweep(self, now_all: bool = False) -> Counter:
        """Adopt orphaned holds, then retry every due release (every waiting one with ``now_all``);
        stops early while the ledger is down."""
        outcomes = Counter()
        now = time.monotonic()
        self.agent_knows = {request_no: until for request_no, until in self.agent_knows.items() if until > now}
        with unit_of_work(self.pool) as conn:
            candidates = holds.orphans(conn, self.orphan_age, list(self.agent_knows), self.batch)
        for orphan in candidates:
            if self.agent.knows(orphan["request_no"]):  # the agent (compensation) and the bank settle it
                self.agent_knows[orphan["request_no"]] = now + self.orphan_age
                continue
            with unit_of_work(self.pool) as conn:
                holds.record(conn, orphan["request_no"], orphan["user_no"], orphan["held"],
                             "orphan: pending withdraw the agent never received")
            outcomes[ADOPTED] += 1
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


def build_releaser(config: dict, pool: ConnectionPool | None = None) -> HoldReleaser:
    """A releaser with its own clients (and pool unless one is given)."""
    return HoldReleaser(pool or create_pool(config, "user-center-holds"),
                        LedgerClient(config["LEDGER_URL"], config, config["SERVICE_TIMEOUT_SECONDS"]),
                        AgentClient(config["DEPOSITORY_AGENT_URL"], config), config)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="holds_command", required=True)
    listing = sub.add_parser("list", help="withdraw holds waiting to be released, one JSON object a line")
    listing.add_argument("--all", action="store_true", help="include released ones")
    sub.add_parser("release", help="try every waiting hold now, whatever its back-off (adopting orphans first)")


def _run(config: dict, args: argparse.Namespace) -> int:
    """``holds list`` or ``holds release``; the latter exits 1 while a hold could not be released."""
    releaser = build_releaser(config)
    try:
        if args.holds_command == "list":
            with unit_of_work(releaser.pool) as conn:
                for row in holds.listing(conn, args.all):
                    print(json.dumps(row, default=str))
            return 0
        try:
            outcomes = releaser.sweep(now_all=True)
        except Unavailable as exc:
            print(f"holds release: {exc.msg}")
            return 1
        print(f"holds release: {outcomes[ADOPTED]} adopted, {outcomes[RELEASED]} released, "
              f"{outcomes[RETRYING]} still waiting")
        return 1 if outcomes[RETRYING] else 0
    finally:
        releaser.pool.close()


HOLDS_COMMAND = ("list or release withdraw holds waiting to be given back", _add_arguments, _run)
