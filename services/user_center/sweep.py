"""Requests that never reached the bank: failed (or their withdraw hold given back), never left pending.

user-center commits a request's record before it asks the agent to sign it, so that the agent
never signs a request user-center does not know. When the agent call fails, :func:`fail_unsent`
settles the request at once. When even that cannot be written (the database went away together
with the agent, as after a PostgreSQL restart), the record would stay pending for ever: the agent
has no record of it, so its compensation never settles it, and no notification will come.

The sweep closes that gap. It runs in the GatewayNotifyConsumer's loop every HOLD_SWEEP_MS and as
``python -m user_center requests sweep``. Each pass finds pending account openings, recharges and
withdraws older than HOLD_ORPHAN_SECONDS (longer than any agent call can take), asks the agent
about each (``GET /l/records/<requestNo>``) and settles only those it answers 404 for, exactly as
the request path would have: recharge failed, account opening failed (the consumer FAILED unless
it was opened or a newer attempt runs), withdraw hold recorded for release. A request the agent
knows is left to the agent (its compensation asks the bank, or expires it, and the consumer applies
that result) and not asked about again for HOLD_ORPHAN_SECONDS. Then the pass releases the
withdraw holds that are due (:class:`user_center.holds.HoldReleaser`).
"""
import logging
import time
from collections import Counter

from psycopg_pool import ConnectionPool

from shared.contract import GATEWAY_SERVICES, PERSONAL_REGISTER, WITHDRAW
from shared.db import unit_of_work

from user_center.agent_client import AgentClient
from user_center.holds import HoldReleaser
from user_center.repository import consumers, holds, requests

log = logging.getLogger(__name__)
FAILED, ADOPTED = "failed", "adopted"


def fail_unsent(conn, service_name: str, row: dict, reason: str) -> str:
    """Settle a request that never reached the bank (``row`` has ``request_no, user_no`` and, for a
    withdraw, ``amount, commission``): FAILED, or ADOPTED for a withdraw whose hold must be released."""
    if service_name == WITHDRAW:  # the hold releaser refunds it, then fails the record
        holds.record(conn, row["request_no"], row["user_no"], row["amount"] + row["commission"], reason)
        return ADOPTED
    if requests.settle(conn, service_name, row["request_no"], requests.FAILED) and service_name == PERSONAL_REGISTER:
        consumers.mark_failed(conn, row["user_no"], row["request_no"])
    return FAILED


class RequestSweeper:
    """Settles requests the agent never received, then releases due withdraw holds."""

    def __init__(self, pool: ConnectionPool, agent: AgentClient, releaser: HoldReleaser, config: dict):
        self.pool = pool
        self.agent = agent
        self.releaser = releaser
        self.orphan_age = config["HOLD_ORPHAN_SECONDS"]
        self.batch = config["HOLD_SWEEP_BATCH"]
        self.agent_knows: dict[str, float] = {}  # candidates the agent has: not asked again until then

    def sweep(self, services: tuple[str, ...] = GATEWAY_SERVICES, now_all: bool = False) -> Counter:
        """One pass over ``services``' orphans, then the due hold releases (every waiting one with
        ``now_all``); counts FAILED, ADOPTED, and the releaser's outcomes. Raises ``Unavailable``
        while the agent cannot be asked."""
        outcomes = self.settle_orphans(services)
        if WITHDRAW in services:
            outcomes.update(self.releaser.release_due(now_all))
        return outcomes

    def settle_orphans(self, services: tuple[str, ...] = GATEWAY_SERVICES) -> Counter:
        """Settle the old pending requests of ``services`` that the agent does not know."""
        outcomes = Counter()
        now = time.monotonic()
        self.agent_knows = {request_no: until for request_no, until in self.agent_knows.items() if until > now}
        for service_name in services:
            with unit_of_work(self.pool) as conn:
                candidates = requests.pending_older_than(conn, service_name, self.orphan_age, list(self.agent_knows),
                                                         self.batch)
            for row in candidates:
                if self.agent.knows(row["request_no"]):
                    self.agent_knows[row["request_no"]] = now + self.orphan_age
                    continue
                with unit_of_work(self.pool) as conn:
                    outcome = fail_unsent(conn, service_name, row, "orphan: the agent never received the request")
                outcomes[outcome] += 1
                log.warning("%s %s: pending for over %ss and unknown to the agent: %s", service_name,
                            row["request_no"], self.orphan_age, outcome,
                            extra={"fields": {"alert": "request-orphan", "request_no": row["request_no"]}})
        return outcomes
