"""Group commit of single postings: the postings that this process's request threads make at the same
moment are applied together, in one call of ``ledger_post_batch``, one transaction and one WAL flush.

The queueing and answering are :mod:`shared.group_commit`'s (a lone posting goes at once; each thread
gets its outcome once its group has committed). Within a group the postings are decided one after another,
each exactly as it would be alone (a replay of an earlier posting of the group answers 201 with its record),
so the group is one of the orders in which the concurrent requests could have run.

A failure never answers for another posting (shared/group_commit.py): a refused group is applied again
posting by posting; when the connection is lost mid-call every posting of the group answers 503 and the
caller retries it; postings are idempotent by trade number.
"""
import psycopg

from beanpay_ledger import postings
from beanpay_ledger.postings import Posting
from shared.group_commit import GroupCommit, Pending

Outcome = tuple[str, str | None]  # (outcome, record JSON text)


class GroupCommitter(GroupCommit):
    """Applies single postings in groups of at most ``max_group``, through connections of ``pool``."""

    thread_name = "ledger-group-commit"

    def post(self, posting: Posting) -> Outcome:
        """Apply one validated posting (with whatever else is posted meanwhile): its ``(outcome, record JSON
        text)``."""
        return self.submit(posting)

    def apply_group(self, conn: psycopg.Connection, group: list[Pending]) -> None:
        """One ``ledger_post_batch`` call for the group (autocommit: its rows arrive once committed)."""
        outcomes = postings.apply(conn, [pending.item for pending in group])
        for pending, outcome in zip(group, outcomes):
            pending.resolve(outcome)
