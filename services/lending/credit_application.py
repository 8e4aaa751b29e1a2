"""From a pushed order to a credit decision: the jobs credit-data-pull (0 -> 2), order-parse (2 -> 10)
and credit-apply (10 -> 11), and the credit-result consumer (11 -> 12, or 4 with a credit.rejected
callback). Every step is a conditional transition, so any number of replicas may run each one."""
import logging
from datetime import timedelta

import urllib3
from urllib3.exceptions import HTTPError

from shared.backoff import backoff
from shared.contract import CREDIT_DATA_KINDS, CREDIT_DATA_PATH, CREDIT_REQUEST, LENDING_EXCHANGE
from shared.db import unit_of_work
from shared.http import json_object
from shared.messaging import NeverApplies
from shared.outbox import enqueue

from lending import partner_callbacks
from lending.orders import first_day_to_reapply
from lending.repository import orders, transaction_time

log = logging.getLogger(__name__)


class PartnerUnavailable(Exception):
    """The partner did not answer usefully; try again later."""


class CreditData:
    """The partner's credit data of an order: ``GET <PARTNER_URL>/data/<orderNo>/<kind>``, outside the
    platform (no service token)."""

    def __init__(self, config: dict):
        self.base_url = config["PARTNER_URL"].rstrip("/")
        seconds = config["PARTNER_TIMEOUT_SECONDS"]
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=urllib3.Timeout(connect=seconds, read=seconds))

    def fetch(self, order_no: str, kind: str) -> dict:
        """One kind of data, a JSON object; :class:`PartnerUnavailable` for anything else."""
        path = CREDIT_DATA_PATH.format(orderNo=order_no, kind=kind)
        try:
            response = self.http.request("GET", self.base_url + path, redirect=False)
        except HTTPError as exc:
            raise PartnerUnavailable(f"credit data {kind}: {exc.__class__.__name__}") from exc
        if response.status != 200:
            raise PartnerUnavailable(f"credit data {kind}: HTTP {response.status}")
        body = json_object(response.data)
        if not body:
            raise PartnerUnavailable(f"credit data {kind}: not a JSON object")
        return body


def pull_credit_data(deps) -> int:
    """Fetch the operator, credit-card and device data of pushed orders; 0 -> 2 once all three are in.

    The partner is called outside any transaction, on a leased order; a partner that does not answer
    is asked again after a capped back-off.
    """
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        due = orders.claim_due(conn, orders.PUSHED, config["JOB_BATCH"], config["LEASE_SECONDS"])
    for order in due:
        with deps.pool.connection() as conn:
            have = orders.credit_data_kinds(conn, order["id"])
        try:
            fetched = {kind: deps.credit_data.fetch(order["order_no"], kind)
                       for kind in CREDIT_DATA_KINDS if kind not in have}
        except PartnerUnavailable as exc:
            delay = backoff(order["attempts"], config["PULL_RETRY_BASE_SECONDS"], config["PULL_RETRY_MAX_SECONDS"])
            with unit_of_work(deps.pool) as conn:
                orders.retry_later(conn, order["id"], delay, str(exc))
            log.info("order %s: credit data not pulled yet (%s); again in %.1fs", order["order_no"], exc, delay)
            continue
        with unit_of_work(deps.pool) as conn:
            for kind, body in fetched.items():
                orders.store_credit_data(conn, order["id"], kind, body)
            orders.advance(conn, order["id"], orders.PUSHED, orders.DATA_PULLED)
    return len(due)


def parse_orders(deps) -> int:
    """Turn pulled credit data into the features the credit engine reads; 2 -> 10."""
    with unit_of_work(deps.pool) as conn:
        due = orders.lock_due(conn, orders.DATA_PULLED, deps.config["JOB_BATCH"])
        for order in due:
            features = parse_features(orders.credit_data_kinds(conn, order["id"]))
            orders.advance(conn, order["id"], orders.DATA_PULLED, orders.PARSED, features=features)
    return len(due)


def parse_features(data: dict[str, dict]) -> dict:
    """The features of an order's credit data: what is missing or malformed stays None, for the engine to weigh."""
    operator, cards, device = (data.get(kind) or {} for kind in CREDIT_DATA_KINDS)

    def whole(source: dict, name: str):
        value = source.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    rooted = device.get("rooted")
    return {"operatorMonths": whole(operator, "netAgeMonths"), "creditCards": whole(cards, "cards"),
            "creditCardOverdues": whole(cards, "overdueCount"),
            "deviceRooted": rooted if isinstance(rooted, bool) else None}


def apply_credit(deps) -> int:
    """Ask the credit engine: a credit.request message written with 10 -> 11 in one transaction."""
    with unit_of_work(deps.pool) as conn:
        due = orders.lock_due(conn, orders.PARSED, deps.config["JOB_BATCH"])
        for order in due:
            request = {"orderNo": order["order_no"], "name": order["name"], "idNumber": order["id_number"],
                       "mobile": order["mobile"], "loanAmount": order["loan_amount"], "loanTerm": order["loan_term"],
                       "features": order["features"]}
            enqueue(conn, LENDING_EXCHANGE, CREDIT_REQUEST, request, f"{CREDIT_REQUEST}:{order['order_no']}")
            orders.advance(conn, order["id"], orders.PARSED, orders.CREDIT_APPLIED)
    return len(due)


def apply_credit_decision(deps, decision: dict) -> None:
    """The credit-result consumer: 11 -> 12 (approved), or 11 -> 4 with a credit.rejected callback.
    A decision for an order no longer at 11 (a repeat) changes nothing."""
    order_no, approved = decision.get("orderNo"), decision.get("approved")
    reasons = decision.get("reasons")
    if not isinstance(order_no, str) or not isinstance(approved, bool) or not isinstance(reasons, list):
        raise NeverApplies("a credit decision needs orderNo, approved and reasons")
    config = deps.config
    with unit_of_work(deps.pool) as conn:
        order = orders.by_order_no(conn, order_no, lock=True)
        if order is None:
            raise NeverApplies(f"credit decision for unknown order {order_no}")
        if order["status"] != orders.CREDIT_APPLIED:
            log.info("order %s: credit decision repeated (status %s), nothing to do", order_no, order["status"])
            return
        now = transaction_time(conn)
        if approved:
            amount = decision.get("approvedAmount")
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= order["loan_amount"]:
                raise NeverApplies(f"credit decision for {order_no}: approvedAmount must be 1..{order['loan_amount']}")
            orders.advance(conn, order["id"], orders.CREDIT_APPLIED, orders.APPROVED, approved_amount=amount,
                           approved_at=now, confirm_deadline=now + timedelta(days=config["CONFIRM_DAYS"]))
            return
        refused = orders.advance(conn, order["id"], orders.CREDIT_APPLIED, orders.REFUSED,
                                 refusal_reason="; ".join(map(str, reasons))[:500], refused_at=now)
        can_loan = first_day_to_reapply(config, refused["refused_at"])
        partner_callbacks.credit_rejected(conn, order_no, can_loan.isoformat())
