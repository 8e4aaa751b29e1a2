"""The ledger mirror: posts the postings that bank results wrote, until the ledger has each one.

Postings are idempotent at the ledger by (account, kind, trade_no), so a posting whose answer was lost
is simply posted again. Posting goes oldest first; a refund that reaches the ledger before its deduct
(404), a deduct that would overdraw while an earlier add is still on its way (422), or an add to an
account not created yet (404: created, then posted again) waits and is tried again, for ever, with
a capped back-off. Only what the ledger can never accept stops a posting, as an anomaly for an
operator: a conflicting trade number (409, the same one with another amount) or a posting it refuses
as malformed (400); ``python -m lending postings retry`` queues those again once the cause is fixed.
"""
import logging

from shared.backoff import backoff
from shared.db import unit_of_work
from shared.errors import AppError

from lending.repository import anomalies, postings

log = logging.getLogger(__name__)


def post_now(deps) -> int:
    """Post what is due right away (the fast path after a settlement); errors are left to the mirror job."""
    try:
        return post_due(deps)
    except AppError as exc:
        log.info("ledger postings left to the mirror job: %s", exc.msg)
        return 0


def post_due(deps) -> int:
    """Post one batch of due postings through the ledger's batch endpoint; how many were posted."""
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        due = postings.claim_due(conn, config["JOB_BATCH"], config["LEASE_SECONDS"])
    if not due:
        return 0
    try:
        results = deps.ledger.post_batch([{"op": row["op"], "eid": row["eid"], "trade_no": row["trade_no"],
                                           "amount": row["amount"]} for row in due])
    except AppError as exc:
        with unit_of_work(deps.pool) as conn:
            for row in due:
                postings.retry_later(conn, row["id"], _delay(config, row), exc.msg)
        raise
    posted = [row["id"] for row, outcome in zip(due, results) if outcome["status"] in (200, 201)]
    missing_accounts = set()
    with unit_of_work(deps.pool) as conn:
        postings.mark_posted(conn, posted)
        for row, outcome in zip(due, results):
            status = outcome["status"]
            if status in (200, 201):
                continue
            if status in (400, 409):
                postings.refuse(conn, row["id"], f"{status}: {outcome.get('msg')}")
                anomalies.record(conn, "posting-refused", row["trade_no"], f"{row['op']} {row['amount']} for"
                                 f" {row['eid']} refused ({status}): {outcome.get('msg')}")
                continue
            if status == 404 and row["op"] == postings.ADD:
                missing_accounts.add(row["eid"])
            postings.retry_later(conn, row["id"], _delay(config, row), f"{status}: {outcome.get('msg')}")
    for eid in missing_accounts:
        deps.ledger.create_account(eid, eid)
        log.info("ledger account %s created for its postings", eid)
    return len(posted)


def _delay(config: dict, row: dict) -> float:
    return backoff(row["attempts"], config["POSTING_RETRY_BASE_SECONDS"], config["POSTING_RETRY_MAX_SECONDS"])
