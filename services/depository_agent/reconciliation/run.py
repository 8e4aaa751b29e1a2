"""One reconciliation run: collect the four views of a day's requests, compare, repair, verify.

Repairs go through the platform's own paths: a result the bank has and the agent missed is
settled by the compensation check (bank query, signature verified, ``notifications.settle``,
outbox, RabbitMQ, consumer); a final result user-center or the ledger missed is announced again
from the outbox (the consumer applies it, or re-asserts its idempotent ledger posting).
"""
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.contract import TRANSACTION_SERVICES
from shared.db import unit_of_work
from shared.errors import AppError

from depository_agent.bank_client import BankQueryError
from depository_agent.bootstrap import build
from depository_agent.compensation import ALREADY_FINAL
from depository_agent.notifications import DUPLICATE, SETTLED, republish, result_status
from depository_agent.reconciliation.compare import (BANK_FAILED, BANK_UNKNOWN, NONE, NOT_REPAIRED, REPAIR_FAILED,
                                                     REPAIRED, REPORTED, SETTLE, Finding, Item, compare)
from depository_agent.reconciliation.report import Progress
from depository_agent.reconciliation.sources import BankStatements, LedgerPostings, UserCenterRecords
from depository_agent.repository import records

_SETTLE_OK = (SETTLED, DUPLICATE, ALREADY_FINAL)


def business_day(value: date | str, zone: str, now: datetime | None = None) -> date:
    """``value`` itself, or for ``yesterday`` the day before today in ``zone`` (what a daily scheduled run,
    deploy/k8s/base/reconcile-cronjob.yaml, reconciles)."""
    if value != "yesterday":
        return value
    return ((now or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)) - timedelta(days=1)).date()


@dataclass
class Result:
    """What a run found: every item with its findings, and the counts the summary shows."""

    day: date
    items: dict[str, Item]
    findings: dict[str, list[Finding]]
    counts: dict[str, int] = field(default_factory=dict)

    def rows(self):
        """``(item, finding)`` for every finding, in requestNo order."""
        for request_no in sorted(self.findings):
            for finding in self.findings[request_no]:
                yield self.items[request_no], finding

    @property
    def remaining(self) -> int:
        """Differences not repaired (the exit code is non-zero while this is not 0)."""
        return sum(1 for _, finding in self.rows() if finding.is_difference and finding.action != REPAIRED)


class Reconciler:
    """Reconciles one business day (``RECONCILE_TIMEZONE``) against the bank's statement."""

    def __init__(self, config: dict, progress: Progress):
        self.config = config
        self.zone = ZoneInfo(config["RECONCILE_TIMEZONE"])
        self.progress = progress
        self.statements = BankStatements(config)
        self.user_center = UserCenterRecords(config)
        self.ledger = LedgerPostings(config)
        self.deps = build(config, "depository-agent.reconcile")
        self.compensator = self.deps.compensator
        self.pool = self.deps.pool

    def close(self) -> None:
        self.deps.close()

    def run(self, day: date, repair: bool = True) -> Result:
        """Compare every request of ``day``; repair and verify unless ``repair`` is False."""
        start = datetime.combine(day, time.min, self.zone)
        items = self._collect(day, start, start + timedelta(days=1))
        self._ask_bank(items.values())
        self._load_postings(items.values(), day)
        findings = {}
        self.progress.start("compared", len(items))
        for request_no, item in items.items():
            found = compare(item)
            if found:
                findings[request_no] = found
            self.progress.tick()
        self.progress.finish()
        result = Result(day, items, findings, counts={
            "statement lines": sum(1 for item in items.values() if item.line),
            "agent records": sum(1 for item in items.values() if item.record),
            "user-center records": sum(1 for item in items.values() if item.user_center),
            "ledger accounts": len({item.user_no for item in items.values() if item.user_no}),
            "requests compared": len(items)})
        to_repair = [(request_no, finding) for request_no, found in findings.items() for finding in found
                     if finding.repair]
        for _, finding in result.rows():
            finding.action = (NOT_REPAIRED if finding.repair else REPORTED) if finding.is_difference else NONE
        if repair and to_repair:
            self._repair(to_repair)
            self._verify(items, to_repair, day)
        return result

    # ---- collecting ------------------------------------------------------------------------------

    def _collect(self, day: date, start: datetime, end: datetime) -> dict[str, Item]:
        self.progress.note(f"reading the bank statement of {day.isoformat()}")
        lines = self.statements.fetch(day)
        self.progress.note(f"  {len(lines)} statement line(s); reading the agent's and user-center's records")
        with unit_of_work(self.pool) as conn:
            agent_records = {row["request_no"]: row for row in records.money_requests_between(conn, start, end)}
        uc_records = self.user_center.between(start, end)
        with unit_of_work(self.pool) as conn:
            others = (set(lines) | set(uc_records)) - set(agent_records)
            agent_records.update((row["request_no"], row) for row in records.get_many(conn, sorted(others)))
        # user-center knows recharges and withdrawals only
        lending = {request_no for request_no, line in lines.items() if line["serviceName"] in TRANSACTION_SERVICES}
        lending |= {request_no for request_no, row in agent_records.items()
                    if row["service_name"] in TRANSACTION_SERVICES}
        unasked = (set(lines) | set(agent_records)) - set(uc_records) - lending
        uc_records.update(self.user_center.by_request_nos(unasked))
        request_nos = sorted(set(lines) | set(agent_records) | set(uc_records))
        return {request_no: Item(request_no, lines.get(request_no), agent_records.get(request_no),
                                 uc_records.get(request_no)) for request_no in request_nos}

    def _ask_bank(self, items) -> None:
        """Ask the bank (signed ``/service/query``) about what the statement cannot settle."""
        asking = [item for item in items if item.needs_bank_query()]
        self.progress.start("asked the bank", len(asking))
        for item in asking:
            item.bank_status = self._bank_status(item.request_no)
            self.progress.tick()
        self.progress.finish()

    def _bank_status(self, request_no: str):
        try:
            answer = self.compensator.ask_bank(request_no)
            return BANK_UNKNOWN if answer is None else result_status(answer[1])
        except (BankQueryError, AppError):
            return BANK_FAILED

    def _load_postings(self, items, day: date) -> None:
        """The ledger's postings of every involved account since the day before the oldest request."""
        by_user: dict[str, dict[str, Item]] = {}
        oldest = day
        for item in items:
            if (item.record or item.user_center) and not item.is_transaction:
                by_user.setdefault(item.user_no, {})[item.request_no] = item
            if item.record:
                oldest = min(oldest, item.record["created_at"].astimezone(self.zone).date())
        self._fill_postings(by_user, oldest - timedelta(days=1), progress=True)

    def _fill_postings(self, by_user: dict[str, dict[str, Item]], since: date, progress: bool = False) -> None:
        if progress:
            self.progress.start("ledger accounts read", len(by_user))
        for user_no, wanted in by_user.items():
            for item in wanted.values():
                item.postings = []
            for posting in self.ledger.for_account(user_no, since):
                if posting.get("trade_no") in wanted:
                    wanted[posting["trade_no"]].postings.append(posting)
            if progress:
                self.progress.tick()
        if progress:
            self.progress.finish()

    # ---- repairing -------------------------------------------------------------------------------

    def _repair(self, to_repair: list[tuple[str, Finding]]) -> None:
        self.progress.start("repairs started", len(to_repair))
        for request_no, finding in to_repair:
            try:
                done = self._settle(request_no) if finding.repair == SETTLE else self._republish(request_no)
            except AppError as exc:
                done, finding.detail = False, f"{finding.detail}; repair refused: {exc.msg}"
            if not done:
                finding.action = REPAIR_FAILED
            self.progress.tick()
        self.progress.finish()

    def _settle(self, request_no: str) -> bool:
        """Settle from the bank's signed answer through the compensation check (the notification path)."""
        with unit_of_work(self.pool) as conn:
            record = records.get_for_check(conn, request_no)
        return self.compensator.check(record) in _SETTLE_OK

    def _republish(self, request_no: str) -> bool:
        with unit_of_work(self.pool) as conn:
            republish(conn, records.lock(conn, request_no))
        return True

    def _verify(self, items: dict[str, Item], to_repair: list[tuple[str, Finding]], day: date) -> None:
        """Re-read the repaired requests until they compare clean or RECONCILE_VERIFY_SECONDS pass."""
        waiting = {request_no: finding for request_no, finding in to_repair if finding.action != REPAIR_FAILED}
        deadline = clock.monotonic() + self.config["RECONCILE_VERIFY_SECONDS"]
        self.progress.note(f"verifying {len(waiting)} repair(s)")
        latest: dict[str, list[Finding]] = {}
        while waiting:
            self._refresh(items, list(waiting), day)
            for request_no in list(waiting):
                latest[request_no] = [found for found in compare(items[request_no]) if found.is_difference]
                if not latest[request_no]:
                    waiting.pop(request_no).action = REPAIRED
            if not waiting or clock.monotonic() >= deadline:
                break
            clock.sleep(0.5)
        for request_no, finding in waiting.items():
            finding.action = REPAIR_FAILED
            still = "; ".join(f"{found.category}: {found.detail}" for found in latest.get(request_no, []))
            finding.detail = f"{finding.detail}; not verified after the repair ({still})"

    def _refresh(self, items: dict[str, Item], request_nos: list[str], day: date) -> None:
        with unit_of_work(self.pool) as conn:
            for row in records.get_many(conn, request_nos):
                items[row["request_no"]].record = row
        for request_no, record in self.user_center.by_request_nos(request_nos).items():
            items[request_no].user_center = record
        by_user: dict[str, dict[str, Item]] = {}
        for request_no in request_nos:
            by_user.setdefault(items[request_no].user_no, {})[request_no] = items[request_no]
        oldest = min(items[request_no].record["created_at"].astimezone(self.zone).date() for request_no in request_nos)
        self._fill_postings(by_user, min(oldest, day) - timedelta(days=1))

