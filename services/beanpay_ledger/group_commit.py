"""Group commit of single postings: the postings that this process's request threads make at the same
moment are applied together, in one call of ``ledger_post_batch``, one transaction and one WAL flush.

The queueing and answering are :mod:`shared.group_commit`'s (a lone posting goes at once; each thread
gets its outcome once its group has committed). Within a group the postings are decided one after another, each exactly as it would be
alone (a replay of an earlier posting of the group answers 201 with its record), so the group is one
of the orders in which the concurrent requests could have run.

A failure never answers for another posting: when PostgreSQL refuses a group (nothing of it is then
committed), each of its postings is applied again on its own. When the connection is lost mid-call the
outcome is unknown, so every posting of the group answers 503 and the caller retries it; postings are
idempotent by trade number.
"""
import logging

import psycopg
from psycopg_pool import PoolTimeout

from beanpay_ledger import accounts_repo
from shared.errors import Unavailable
from shared.group_commit import UNAVAILABLE, GroupCommit, Pending, refused_by_server

log = logging.getLogger(__name__)

Posting = tuple[int, str, str, int]  # (change_type, eid, trade_no, amount)
Outcome = tuple[str, str | None]  # (outcome, record JSON text)


class GroupCommitter(GroupCommit):
    """Applies single postings in groups of at most ``max_group``, through connections of ``pool``."""

    thread_name = "ledger-group-commit"

    def post(self, change_type: int, eid: str, trade_no: str, amount: int) -> Outcome:
        """Apply one posting (with whatever else is posted meanwhile): its ``(outcome, record JSON text)``."""
        return self.submit((change_type, eid, trade_no, amount))

    def apply(self, group: list[Pending]) -> None:
        """One ``ledger_post_batch`` call for the group; each posting alone again if PostgreSQL refuses it."""
        try:
            with self.pool.connection() as conn:
                outcomes = accounts_repo.post_batch(conn, *zip(*(pending.item for pending in group)))
        except (psycopg.Error, PoolTimeout) as exc:
            if len(group) > 1 and refused_by_server(exc):
                for pending in group:  # nothing was committed: each alone, so a failure stays its own
                    self.apply([pending])
            elif len(group) == 1 and refused_by_server(exc):
                group[0].resolve(error=exc)
            else:
                log.warning("database unavailable during a group of %d postings: %s", len(group), exc)
                for pending in group:
                    pending.resolve(error=Unavailable(UNAVAILABLE))
            return
        for pending, outcome in zip(group, outcomes):
            pending.resolve(outcome)
