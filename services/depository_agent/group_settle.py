"""Group commit of the bank's notifications: the ones a worker receives at the same moment share one
statement, one transaction and one WAL flush.

Each request thread verifies and validates its notification, then submits it; the queueing and
answering are :mod:`shared.group_commit`'s (a lone notification goes at once; each thread gets its
outcome once its group, applied with :func:`repository.records.apply_results`, has committed). ``OK`` is
therefore still answered only after the commit. A requestNo appears at most once in a group: a second
notification for it waits for the next group, where it finds the record final (DUPLICATE or CONFLICTING,
exactly as if the two had come one after the other).

A failure never answers for another notification (shared/group_commit.py): a refused statement is
applied again result by result; when the connection fails each unanswered result answers 503 and the
bank retries; applying a result twice is harmless (the second finds the record final).
"""
import queue
from collections import deque

import psycopg

from shared.errors import AppError
from shared.group_commit import GroupCommit, Pending
from shared.logs import bind_request_id

from depository_agent import notifications
from depository_agent.repository import records


class GroupSettler(GroupCommit):
    """Settles notifications in groups of at most ``max_group`` through connections of ``pool``
    (autocommit: the group's one statement is its transaction)."""

    thread_name = "gateway-group-settle"

    def _reset(self) -> None:
        super()._reset()
        self._deferred: deque[Pending] = deque()  # repeats of a requestNo, for the next group

    def settle(self, service_name: str, payload: dict, source: str) -> str:
        """Like :func:`notifications.settle`, applied together with whatever else is being settled."""
        return self.submit(notifications.bank_result(service_name, payload, source))

    def next_group(self) -> list[Pending]:
        """Up to ``max_group`` waiting results with distinct requestNos, deferred ones first."""
        group = [self._deferred.popleft() if self._deferred else self._queue.get()]
        request_nos = {group[0].item.request_no}
        repeats = []
        while len(group) < self.max_group:
            if self._deferred:
                pending = self._deferred.popleft()
            else:
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:
                    break
            if pending.item.request_no in request_nos:
                repeats.append(pending)
            else:
                group.append(pending)
                request_nos.add(pending.item.request_no)
        self._deferred.extendleft(reversed(repeats))
        return group

    def apply_group(self, conn: psycopg.Connection, group: list[Pending]) -> None:
        """One ``apply_results`` statement for the group, then each result's conclusion."""
        found = records.apply_results(conn, [pending.item for pending in group])
        for pending, record in zip(group, found):
            bind_request_id(pending.request_id)  # the conflict log line carries the notification's id
            try:
                pending.resolve(notifications.conclude(conn, pending.item, record))
            except AppError as exc:
                pending.resolve(error=exc)
