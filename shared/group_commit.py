"""Group commit: what the request threads of one process submit at the same moment is applied together,
in one statement, one transaction and one WAL flush.

Each request thread submits its item and waits. One thread per process takes whatever is queued
whenever it is free (no timer: a lone item goes at once; a group builds up only while the previous one
is in the database), applies the group and answers every waiting thread with its own outcome once the
group has committed. A subclass says how a group is applied (:meth:`GroupCommit.apply`) and may say
how one is formed (:meth:`GroupCommit.next_group`).

A failure never answers for another item: when PostgreSQL refuses the group's statement, or an item's
text cannot be stored at all (a lone surrogate, a NUL), nothing of the group is committed, so each
unanswered item is applied again on its own and a refusal stays its own (an item that cannot be sent is
its caller's 400). When the connection fails, or anything else goes wrong, the outcome is unknown, so
each unanswered item answers 503 and its caller retries (what is applied this way is idempotent). Used
by the ledger's single postings and the depository-agent's bank notifications.
"""
import logging
import os
import queue
import threading

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from shared.errors import BadRequest, Unavailable
from shared.logs import current_request_id

log = logging.getLogger(__name__)

UNAVAILABLE = "database unavailable, try again"
UNSENDABLE = "invalid input: text that cannot be stored (not UTF-8, or holding NUL)"
# A safety net only: an answer normally comes within one group's time in the database.
ANSWER_TIMEOUT_S = 30.0


class Pending:
    """One submitted item, with the request id of the thread that submitted it; that thread blocks on
    a lock the group's thread releases."""

    __slots__ = ("item", "request_id", "outcome", "error", "answered", "_done")

    def __init__(self, item):
        self.item = item
        self.request_id = current_request_id()
        self.outcome = None
        self.error: BaseException | None = None
        self.answered = False
        self._done = threading.Lock()
        self._done.acquire()

    def resolve(self, outcome=None, error: BaseException | None = None) -> None:
        """Answer the waiting thread: its outcome, or the error it raises."""
        self.outcome, self.error, self.answered = outcome, error, True
        self._done.release()

    def wait(self, timeout: float):
        """The outcome, once answered; raises the answered error, or :class:`Unavailable` after ``timeout``."""
        if not self._done.acquire(timeout=timeout):
            raise Unavailable(f"{UNAVAILABLE} (no answer from the database within {timeout:g}s)")
        if self.error is not None:
            raise self.error
        return self.outcome


class GroupCommit:
    """Applies submitted items in groups of at most ``max_group``, through connections of ``pool``."""

    thread_name = "group-commit"

    def __init__(self, pool: ConnectionPool, max_group: int):
        self.pool = pool
        self.max_group = max(1, max_group)
        self._start_lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts its own thread

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, item):
        """Apply ``item`` with whatever else is submitted meanwhile; its outcome once the group committed."""
        pending = Pending(item)
        if self._thread is None:
            self._start()
        self._queue.put(pending)
        return pending.wait(ANSWER_TIMEOUT_S)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            group = self.next_group()
            try:
                self.apply(group)
            except Exception:  # never leave a thread waiting, whatever happened
                log.exception("%s failed", self.thread_name)
                for pending in group:
                    if not pending.answered:
                        pending.resolve(error=Unavailable(UNAVAILABLE))

    def next_group(self) -> list[Pending]:
        """The next group: the first waiting item (blocking until there is one) and up to
        ``max_group - 1`` more that are already waiting."""
        group = [self._queue.get()]
        while len(group) < self.max_group:
            try:
                group.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return group

    def apply(self, group: list[Pending]) -> None:
        """Apply ``group`` on one pooled connection; when that fails, answer what is still unanswered: each
        alone again when nothing was sent or PostgreSQL refused the statement, 503 when the outcome is
        unknown (the connection failed, or an unexpected error)."""
        try:
            with self.pool.connection() as conn:
                self.apply_group(conn, group)
        except Exception as exc:
            unanswered = [pending for pending in group if not pending.answered]
            own = _refused_by_server(exc) or _unsendable(exc)
            if own and len(unanswered) > 1:
                for pending in unanswered:  # the statement was refused or never sent: each alone
                    self.apply([pending])
                return
            if not own:
                log.warning("%s: outcome unknown for a group of %d: %r", self.thread_name, len(unanswered), exc,
                            exc_info=not isinstance(exc, (psycopg.Error, PoolTimeout)))
                exc = Unavailable(UNAVAILABLE)
            elif _unsendable(exc):
                exc = BadRequest(UNSENDABLE)
            for pending in unanswered:
                pending.resolve(error=exc)

    def apply_group(self, conn: psycopg.Connection, group: list[Pending]) -> None:
        """Apply ``group`` in one statement on ``conn`` (autocommit) and resolve each of its items."""
        raise NotImplementedError


def _unsendable(exc: BaseException) -> bool:
    """Whether an item's text cannot be stored: psycopg cannot encode it, so the statement never left (a lone
    surrogate raises UnicodeEncodeError, a NUL a DataError of psycopg's own, without SQLSTATE), or PostgreSQL
    cannot convert it to text (SQLSTATE 22P05: a NUL sent escaped inside JSON)."""
    return isinstance(exc, UnicodeError) or (isinstance(exc, psycopg.DataError) and exc.sqlstate in (None, "22P05"))


def _refused_by_server(exc: BaseException) -> bool:
    """Whether PostgreSQL itself refused the statement (so its transaction was rolled back), rather than
    the connection failing with the outcome unknown."""
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is not None and not sqlstate.startswith("08")
