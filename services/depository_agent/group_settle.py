"""Group commit of the bank's notifications: the ones a worker receives at the same moment share one
statement, one transaction and one WAL flush.

Each request thread verifies and validates its notification, queues it and waits. One settler thread per
process takes whatever is queued whenever it is free (no timer: a lone notification goes at once; a
group builds up only while the previous one is in the database), applies the group with
:func:`record_store.apply_results` and hands every thread its own outcome once the group has
committed. ``OK`` is therefore still answered only after the commit. A requestNo appears at most once
in a group: a second notification for it waits for the next group, where it finds the record final
(DUPLICATE or CONFLICTING, exactly as if the two had come one after the other).

A failure never answers for another notification: when PostgreSQL refuses a statement (nothing of it
is committed), each unanswered result of the group is applied again on its own. When the connection
fails the outcome is unknown, so each unanswered result answers 503 and the bank retries; applying a
result twice is harmless (the second finds the record final).
"""
import logging
import os
import queue
import threading
from collections import deque

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.errors import AppError, Unavailable
from shared.logs import bind_request_id, current_request_id

from depository_agent import notifications, record_store
from depository_agent.notifications import BankResult

log = logging.getLogger(__name__)

UNAVAILABLE = "database unavailable, try again"
# A safety net only: an answer normally comes within one group's time in the database.
ANSWER_TIMEOUT_SECONDS = 30.0


class _Pending:
    """One queued result; its request thread blocks on a lock the settler releases."""

    __slots__ = ("result", "request_id", "outcome", "error", "answered", "_done")

    def __init__(self, result: BankResult, request_id: str):
        self.result = result
        self.request_id = request_id
        self.outcome: str | None = None
        self.error: BaseException | None = None
        self.answered = False
        self._done = threading.Lock()
        self._done.acquire()

    def resolve(self, outcome: str | None = None, error: BaseException | None = None) -> None:
        self.outcome, self.error, self.answered = outcome, error, True
        self._done.release()

    def wait(self, timeout: float) -> str:
        if not self._done.acquire(timeout=timeout):
            raise Unavailable(f"{UNAVAILABLE} (no answer within {timeout:g}s)")
        if self.error is not None:
            raise self.error
        return self.outcome


class GroupSettler:
    """Settles notifications in groups of at most ``max_group`` through connections of ``pool``
    (autocommit: the group's one statement is its transaction)."""

    def __init__(self, pool: ConnectionPool, max_group: int):
        self.pool = pool
        self.max_group = max(1, max_group)
        self._start_lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts its own settler

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._deferred: deque[_Pending] = deque()  # repeats of a requestNo, for the next group
        self._thread: threading.Thread | None = None

    def settle(self, service_name: str, payload: dict, source: str) -> str:
        """Like :func:`notifications.settle`, applied together with whatever else is being settled."""
        pending = _Pending(notifications.bank_result(service_name, payload, source), current_request_id())
        if self._thread is None:
            self._start()
        self._queue.put(pending)
        return pending.wait(ANSWER_TIMEOUT_SECONDS)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gateway-group-settle", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            group = self._next_group()
            try:
                self._apply(group)
            except Exception:  # never leave a thread waiting, whatever happened
                log.exception("group settlement failed")
                for pending in group:
                    if not pending.answered:
                        pending.resolve(error=Unavailable(UNAVAILABLE))

    def _next_group(self) -> list[_Pending]:
        """Up to ``max_group`` waiting results with distinct requestNos, deferred ones first."""
        group = [self._deferred.popleft() if self._deferred else self._queue.get()]
        request_nos = {group[0].result.request_no}
        repeats = []
        while len(group) < self.max_group:
            if self._deferred:
                pending = self._deferred.popleft()
            else:
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:
                    break
            if pending.result.request_no in request_nos:
                repeats.append(pending)
            else:
                group.append(pending)
                request_nos.add(pending.result.request_no)
        self._deferred.extendleft(reversed(repeats))
        return group

    def _apply(self, group: list[_Pending]) -> None:
        try:
            with self.pool.connection() as conn:
                records = record_store.apply_results(conn, [pending.result for pending in group])
                for pending, record in zip(group, records):
                    bind_request_id(pending.request_id)  # the conflict log line carries the notification's id
                    try:
                        pending.resolve(notifications.conclude(conn, pending.result, record))
                    except AppError as exc:
                        pending.resolve(error=exc)
        except (psycopg.Error, PoolTimeout) as exc:
            unanswered = [pending for pending in group if not pending.answered]
            if _refused_by_server(exc) and len(unanswered) > 1:
                for pending in unanswered:  # nothing of the refused statement was committed: each alone
                    self._apply([pending])
                return
            if not _refused_by_server(exc):
                log.warning("database unavailable while settling %d notifications: %s", len(unanswered), exc)
                exc = Unavailable(UNAVAILABLE)
            for pending in unanswered:
                pending.resolve(error=exc)

def _refused_by_server(exc: BaseException) -> bool:
    """Whether PostgreSQL itself refused the statement (so it was rolled back), rather than the
    connection failing with the outcome unknown."""
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is not None and not sqlstate.startswith("08")
