"""Crediting confirmed recharges (bank_netsave rows) to the wallet ledger (docs/bank_callback.md, the worker).

One pass claims open rows in batches (a claim per row, so any number of workers may run side by
side), credits each to the ledger with no transaction open, then marks the batch's finished rows
done in one short transaction. The ledger posting is idempotent by trade_no (= OrdId), so a crash
between the posting and that commit is repaired by the next pass replaying it. Rows whose customer
is unknown wait and are reported.
"""
import logging
import time
from dataclasses import dataclass, field

import psycopg
from psycopg_pool import ConnectionPool

from shared.errors import AppError, NotFound, Unavailable
from shared.ledger_client import LedgerClient
from shared.money import parse_yuan

from bank_callback.huifu import SUCCESS
from bank_callback.repository import netsaves

log = logging.getLogger(__name__)
# The state of a successful recharge whose customer is not known yet (NetSave before UserRegister).
WAITING = "unknown customer: waiting for UserRegister"


@dataclass
class PassResult:
    """What one pass did; ``ledger_down`` means it stopped early and should be retried later."""

    credited: int = 0
    closed_failed: int = 0
    postponed: int = 0
    waiting: list[str] = field(default_factory=list)
    ledger_down: bool = False


@dataclass
class _Outcomes:
    """What became of a batch's rows: ids to mark done (credited or closed) and ids to postpone."""

    credited: list = field(default_factory=list)
    closed_failed: list = field(default_factory=list)
    postponed: list = field(default_factory=list)


class UnknownCustomerReporter:
    """Logs each recharge waiting for its customer at most once per ``interval`` seconds."""

    def __init__(self, interval: float):
        self.interval = interval
        self.last_reported: dict[str, float] = {}

    def report(self, rows: list[dict]) -> list[str]:
        """Warn about the rows not reported recently; return the OrdIds of all waiting rows."""
        now = time.monotonic()
        waiting = [row["ord_id"] for row in rows]
        self.last_reported = {ord_id: at for ord_id, at in self.last_reported.items() if ord_id in waiting}
        for row in rows:
            if now - self.last_reported.get(row["ord_id"], float("-inf")) >= self.interval:
                log.warning("recharge waits for an unknown bank customer (no UserRegister yet)", extra={"fields": {
                    "ord_id": row["ord_id"], "cust_id": row["cust_id"], "trans_amt": row["trans_amt"],
                    "received_at": row["created_at"].isoformat()}})
                self.last_reported[row["ord_id"]] = now
        return waiting


class NetsaveCrediter:
    """Credits open bank_netsave rows; :meth:`run_once` is one pass over everything workable now."""

    def __init__(self, pool: ConnectionPool, ledger: LedgerClient, batch_size: int, max_fen: int,
                 reporter: UnknownCustomerReporter):
        self.pool = pool
        self.ledger = ledger
        self.batch_size = batch_size
        self.max_fen = max_fen
        self.reporter = reporter

    @classmethod
    def from_config(cls, config: dict, pool: ConnectionPool, ledger: LedgerClient) -> "NetsaveCrediter":
        """A crediter on ``pool`` and ``ledger`` with CREDIT_BATCH_SIZE, MAX_AMOUNT_FEN, PENDING_REPORT_SECONDS."""
        return cls(pool, ledger, config["CREDIT_BATCH_SIZE"], config["MAX_AMOUNT_FEN"],
                   UnknownCustomerReporter(config["PENDING_REPORT_SECONDS"]))

    def run_once(self) -> PassResult:
        """Process every row workable now (each at most once), then report the waiting ones."""
        result = PassResult()
        seen: list = []
        with self.pool.connection() as conn:
            try:
                while not result.ledger_down:
                    with conn.transaction():
                        candidates = netsaves.claim_workable(conn, self.batch_size, seen)
                        rows = netsaves.claimed_rows(conn, [row["id"] for row in candidates if row["claimed"]])
                    seen += [row["id"] for row in candidates]  # rows another worker holds are its to finish
                    self._credit_batch(conn, rows, result)
                    if len(candidates) < self.batch_size:
                        break
            finally:
                _release(conn)
        with self.pool.connection() as conn:
            unknown = [row for row in netsaves.open_netsaves(conn)
                       if row["openid"] is None and row["resp_code"] == SUCCESS]
        result.waiting = self.reporter.report(unknown)
        return result

    def _credit_batch(self, conn: psycopg.Connection, rows: list[dict], result: PassResult) -> None:
        """Settle the claimed ``rows`` with the ledger (no transaction open), then record the outcomes in one
        short transaction; stops at the first row the ledger cannot be reached for."""
        outcomes = _Outcomes()
        for row in rows:
            if not self._settle(row, outcomes):
                result.ledger_down = True
                break
        with conn.transaction():
            for netsave_id in outcomes.credited + outcomes.closed_failed:
                netsaves.mark_done(conn, netsave_id)
            for netsave_id in outcomes.postponed:
                netsaves.postpone(conn, netsave_id)
        result.credited += len(outcomes.credited)
        result.closed_failed += len(outcomes.closed_failed)
        result.postponed += len(outcomes.postponed)

    def _settle(self, row: dict, outcomes: _Outcomes) -> bool:
        """Decide one claimed row; False when the ledger is unreachable and the pass must stop."""
        if row["data"].get("RespCode") != SUCCESS:
            # The bank reported the recharge as failed: nothing to credit, the row is closed.
            outcomes.closed_failed.append(row["id"])
            return True
        try:
            self._credit(row)
        except Unavailable as exc:
            log.warning("ledger unavailable; crediting paused: %s", exc.msg)
            return False
        except AppError as exc:
            log.error("recharge refused by the ledger; it stays open for an operator", extra={"fields": {
                "ord_id": row["ord_id"], "openid": row["openid"], "status": exc.status, "reason": exc.msg}})
            outcomes.postponed.append(row["id"])
            return True
        outcomes.credited.append(row["id"])
        return True

    def _credit(self, row: dict) -> None:
        """Post the recharge to the openid's wallet, opening the wallet on its first credit."""
        amount = parse_yuan(row["data"].get("TransAmt"), "TransAmt", self.max_fen)
        try:
            self.ledger.add(row["openid"], row["ord_id"], amount)
        except NotFound:
            self.ledger.create_account(row["openid"], row["openid"])
            self.ledger.add(row["openid"], row["ord_id"], amount)


def _release(conn: psycopg.Connection) -> None:
    """Give up the pass's claims; a session that cannot is closed, which ends its claims with it."""
    try:
        with conn.transaction():
            netsaves.release_claims(conn)
    except psycopg.Error:
        conn.close()


def open_recharges(pool: ConnectionPool, limit: int) -> list[dict]:
    """Every recharge not done yet, oldest first, with its ``state``: failed at the bank (to be closed),
    waiting for an unknown customer, or awaiting credit."""
    with pool.connection() as conn:
        rows = netsaves.open_netsaves(conn, limit=limit)
    for row in rows:
        if row["resp_code"] != SUCCESS:
            row["state"] = "failed at the bank, to be closed"
        elif row["openid"] is None:
            row["state"] = WAITING
        else:
            row["state"] = "awaiting credit"
    return rows

