"""Group commit of single postings: the postings that this process's request threads make at the same
moment are applied together, in one call of ``ledger_post_batch``, one transaction and one WAL flush.

Each request thread queues its posting and waits; one committer thread takes whatever is queued
whenever it is free (no timer: a lone posting goes at once, and the queue fills only while a group is
in the database), applies the group and hands every thread its own outcome once the group has
committed. Within a group the postings are decided one after another, each exactly as it would be
alone (a replay of an earlier posting of the group answers 201 with its record), so the group is one
of the orders in which the concurrent requests could have run.

A failure never answers for another posting: when PostgreSQL refuses a group (nothing of it is then
committed), each of its postings is applied again on its own. When the connection is lost mid-call the
outcome is unknown, so every posting of the group answers 503 and the caller retries it; postings are
idempotent by trade number.
"""
import logging
import os
import queue
import threading

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from beanpay_ledger import accounts_repo
from shared.errors import Unavailable

log = logging.getLogger(__name__)

Posting = tuple[int, str, str, int]  # (change_type, eid, trade_no, amount)
Outcome = tuple[str, str | None]  # (outcome, record JSON text)
UNAVAILABLE = "database unavailable, try again"
# A safety net only: a posting's answer normally comes within one group's time in the database.
ANSWER_TIMEOUT_S = 30.0


class _Pending:
    """One queued posting: the waiting thread blocks on a lock the committer releases."""

    __slots__ = ("posting", "outcome", "error", "answered", "_done")

    def __init__(self, posting: Posting):
        self.posting = posting
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self.answered = False
        self._done = threading.Lock()
        self._done.acquire()

    def resolve(self, outcome: Outcome | None = None, error: BaseException | None = None) -> None:
        self.outcome, self.error, self.answered = outcome, error, True
        self._done.release()

    def wait(self, timeout: float) -> Outcome:
        if not self._done.acquire(timeout=timeout):
            raise Unavailable(f"{UNAVAILABLE} (no answer from the database within {timeout:g}s)")
        if self.error is not None:
            raise self.error
        return self.outcome


class GroupCommitter:
    """Applies single postings in groups of at most ``max_group``, through connections of ``pool``."""

    def __init__(self, pool: ConnectionPool, max_group: int):
        self.pool = pool
        self.max_group = max_group
        self._start_lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts its own committer

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def post(self, change_type: int, eid: str, trade_no: str, amount: int) -> Outcome:
        """Apply one posting (with whatever else is posted meanwhile): its ``(outcome, record JSON text)``."""
        pending = _Pending((change_type, eid, trade_no, amount))
        if self._thread is None:
            self._start()
        self._queue.put(pending)
        return pending.wait(ANSWER_TIMEOUT_S)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ledger-group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < self.max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._apply(group)
            except Exception:  # never leave a thread waiting, whatever happened
                log.exception("group commit failed")
                for pending in group:
                    if not pending.answered:
                        pending.resolve(error=Unavailable(UNAVAILABLE))

    def _apply(self, group: list[_Pending]) -> None:
        try:
            with self.pool.connection() as conn:
                outcomes = accounts_repo.post_batch(conn, *zip(*(pending.posting for pending in group)))
        except (psycopg.Error, PoolTimeout) as exc:
            if len(group) > 1 and _refused_by_server(exc):
                for pending in group:  # nothing was committed: each alone, so a failure stays its own
                    self._apply([pending])
            elif len(group) == 1 and _refused_by_server(exc):
                group[0].resolve(error=exc)
            else:
                log.warning("database unavailable during a group of %d postings: %s", len(group), exc)
                for pending in group:
                    pending.resolve(error=Unavailable(UNAVAILABLE))
            return
        for pending, outcome in zip(group, outcomes):
            pending.resolve(outcome)


def _refused_by_server(exc: BaseException) -> bool:
    """Whether PostgreSQL itself refused the call (so its transaction was rolled back), rather than the
    connection failing with the outcome unknown."""
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is not None and not sqlstate.startswith("08")
