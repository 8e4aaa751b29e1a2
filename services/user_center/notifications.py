"""Applying the bank's results (gateway notifications) to user-center's records, exactly once.

One message = two short transactions around the ledger calls, so that no row lock is held while the
ledger answers (or does not): the first locks the request row, decides (already final? the other
outcome? the amount?) and claims the outcome (``applying_status``); the idempotent ledger calls follow
with no transaction open; the second settles the row. A claimed request is decided: the other outcome
is an anomaly from then on, and a hold release (:mod:`user_center.holds`) claims a withdraw's failure
the same way, so a release and a payment of one withdraw exclude each other. A crash after a ledger
call but before the settling commit is repaired by the redelivery, which finds the claim and makes the
same calls again: the ledger ignores a trade number it has already applied. A duplicate of a money
result re-asserts its ledger postings (a replay there changes nothing), so re-announcing a result
repairs a posting the ledger lost. Results that must not be applied are stored as anomalies; a
message that can never apply (for a request user-center does not have) raises
:class:`UnknownRequest`; a malformed one never gets here (:mod:`user_center.result_message`).

The postings of a result: a successful recharge adds its amount to the user's wallet; a successful
withdraw keeps its hold (the debit) and adds its commission to the platform's wallet (eid = the
platformNo, trade_no = requestNo), which the bank pays into the platform's account; a failed withdraw
releases its hold for good (``/account/balance/release``: refunded if it landed, refused for ever if it
is still on its way).

Under load the consumer applies a run of RECHARGE and WITHDRAW results together
(:func:`apply_batch`): the same decisions, in the same order, with one ledger batch call between
the two transactions. Anything unusual there (a ledger refusal, an error) leaves the run unsettled
and the consumer applies its messages one by one with :func:`apply`.
"""
import logging

from psycopg_pool import ConnectionPool

from shared.contract import PERSONAL_REGISTER, RECHARGE, STATUS_SUCCESS, WITHDRAW
from shared.db import unit_of_work
from shared.errors import BadRequest, NotFound
from shared.ledger_client import LedgerClient
from shared.logs import bind_request_id
from shared.money import format_fen, parse_yuan

from user_center.repository import anomalies, consumers, requests

log = logging.getLogger(__name__)
APPLIED, DUPLICATE, ANOMALY = "applied", "duplicate", "anomaly"


class NeverApplies(Exception):
    """A message that can never be applied, however often it is tried: it goes to the DLQ."""


class UnknownRequest(NeverApplies):
    """A result for a requestNo user-center has no record of (it commits every record before the agent
    signs the request, so this one will never have one)."""


def apply(pool: ConnectionPool, ledger: LedgerClient, platform_no: str, payload: dict,
          message_id: str | None = None) -> str:
    """Apply one notification read by :func:`user_center.result_message.read`; returns APPLIED, DUPLICATE or
    ANOMALY.

    Three steps, so that no row lock is held during a ledger call: decide (and claim the outcome) in one
    short transaction under the request row's lock; make the ledger calls with no transaction open;
    settle the row in a second transaction. Raises :class:`UnknownRequest` for a requestNo user-center
    does not have, and whatever a transient failure raises (ledger or database unreachable, a posting
    refused for now): the row is left pending (claimed: the retry applies the same outcome) and the
    caller retries the message later.
    """
    service, request_no = payload["serviceName"], payload["requestNo"]
    success = payload["status"] == STATUS_SUCCESS
    with unit_of_work(pool) as conn:
        row = requests.lock(conn, service, request_no)
        verdict, reason = _decide(row, payload)
        if verdict == ANOMALY:
            return _anomaly(conn, reason, payload, message_id)
        if verdict == APPLIED:
            requests.claim(conn, service, request_no, _status(success))
        opened = service == PERSONAL_REGISTER and success and verdict == APPLIED
        owner = consumers.find(conn, row["user_no"]) if opened else None
    for operation in _ledger_operations(service, row, success, platform_no):
        _post(ledger, operation)  # also for a duplicate: re-asserting an idempotent posting repairs a lost one
    if verdict == DUPLICATE:
        return DUPLICATE
    if opened:
        ledger.create_account(row["user_no"], owner["username"] or row["user_no"])
    with unit_of_work(pool) as conn:
        if not requests.settle(conn, service, request_no, _status(success), notified=True):
            return DUPLICATE  # another consumer settled it meanwhile, with this outcome (it was claimed)
        if service == PERSONAL_REGISTER:
            _apply_register(conn, row, payload, success)
    log.info("%s %s applied: %s", service, request_no, "success" if success else "failure")
    return APPLIED


BATCHED_SERVICES = (RECHARGE, WITHDRAW)


class BatchRefused(Exception):
    """The ledger refused a posting of a batch: its messages are applied one by one instead."""


def apply_batch(pool: ConnectionPool, ledger: LedgerClient, platform_no: str,
                messages: list[tuple[dict, str | None, str]]) -> set[int]:
    """Apply RECHARGE and WITHDRAW results (``(payload, message_id, request_id)`` in arrival order) with one
    ledger batch call; returns the positions of the messages that can never apply (unknown requestNo),
    which were left alone.

    As :func:`apply`, in three steps: one short transaction locks the rows (in id order, so concurrent
    consumers never deadlock), decides each message as :func:`apply` would, seeing the effect of the
    earlier messages of the run, and claims the outcomes; the ledger postings go in one call with no
    transaction open; a second transaction records the anomalies and settles the rows. Raises
    :class:`BatchRefused` or the transient error, with nothing settled and no anomaly recorded, when
    anything is not a plain success: applied one by one, each message finds its own claim.
    """
    with unit_of_work(pool) as conn:
        rows = {}
        for service in BATCHED_SERVICES:
            numbers = [payload["requestNo"] for payload, _, _ in messages if payload["serviceName"] == service]
            if numbers:
                rows.update({(service, row["request_no"]): row for row in requests.lock_many(conn, service, numbers)})
        operations, settled, anomalous, never = {}, {service: {} for service in BATCHED_SERVICES}, [], set()
        for position, (payload, message_id, request_id) in enumerate(messages):
            service, success = payload["serviceName"], payload["status"] == STATUS_SUCCESS
            row = rows.get((service, payload["requestNo"]))
            if row is None:
                never.add(position)
                continue
            verdict, reason = _decide(row, payload)
            if verdict == ANOMALY:
                anomalous.append((reason, payload, message_id, request_id))
                continue
            for operation in _ledger_operations(service, row, success, platform_no):
                operations[(operation["op"], operation["eid"], operation["trade_no"])] = operation
            if verdict == APPLIED:
                row["callback_status"] = _status(success)  # a later repeat in this run is a duplicate
                settled[service][row["request_no"]] = row["callback_status"]
        for service, statuses in settled.items():
            requests.claim_many(conn, service, statuses)
    bind_request_id(f"batch-{messages[0][2]}"[:64])
    if operations:
        log.info("ledger batch of %d postings for requests %s", len(operations),
                 ",".join(request_id for _, _, request_id in messages))
        _post_batch(ledger, list(operations.values()))
    with unit_of_work(pool) as conn:
        for reason, payload, message_id, request_id in anomalous:
            bind_request_id(request_id)
            _anomaly(conn, reason, payload, message_id)
        for service, statuses in settled.items():
            requests.settle_many(conn, service, statuses)
    return never


def _status(success: bool) -> int:
    return requests.SUCCESS if success else requests.FAILED


def _decide(row: dict | None, payload: dict) -> tuple[str, str | None]:
    """APPLIED (the record is pending, claimed for no other outcome, and the result fits it), DUPLICATE
    (final with this outcome) or ANOMALY with the reason; :class:`UnknownRequest` without a record."""
    if row is None:
        raise UnknownRequest(f"unknown requestNo {payload['requestNo'][:40]!r}")
    success = payload["status"] == STATUS_SUCCESS
    if row["callback_status"] == _status(success):
        return DUPLICATE, None
    if row["callback_status"] != requests.PENDING:
        return ANOMALY, f"conflicting result: record is final with callback_status {row['callback_status']}"
    if row["applying_status"] not in (None, _status(success)):
        return ANOMALY, f"conflicting result: record is being settled with callback_status {row['applying_status']}"
    mismatch = _amount_mismatch(row, payload) if success else None
    return (ANOMALY, mismatch) if mismatch else (APPLIED, None)


def _anomaly(conn, reason: str, payload: dict, message_id: str | None) -> str:
    anomalies.record(conn, reason, payload, message_id)
    log.error("gateway notification not applied: %s", reason,
              extra={"fields": {"alert": "gateway-notify-anomaly", "request_no": payload.get("requestNo"),
                                "service_name": payload.get("serviceName"), "message_id": message_id}})
    return ANOMALY


def _amount_mismatch(row: dict, payload: dict) -> str | None:
    """A reason when the notified amount is not the recorded one (a success must match exactly)."""
    if "amount" not in row or "amount" not in payload:
        return None
    try:
        notified = parse_yuan(payload["amount"], max_fen=10**17)
    except BadRequest:
        return f"unreadable notified amount {str(payload['amount'])[:32]!r}"
    if notified != row["amount"]:
        return f"notified amount {format_fen(notified)} differs from the record's {format_fen(row['amount'])}"
    return None


def _apply_register(conn, row: dict, payload: dict, success: bool) -> None:
    """The consumer's depository status after its account-opening attempt ``row`` (the wallet exists already
    on success): OPENED with the card bound, or FAILED unless it is open or a newer attempt runs."""
    if not success:
        consumers.mark_failed(conn, row["user_no"], row["request_no"])
        return
    bank_name = payload.get("bankName")
    consumers.mark_opened(conn, row["user_no"], {
        "bank_code": row["bank_code"], "bank_name": bank_name[:64] if isinstance(bank_name, str) else None,
        "card_number": row["card_number"], "card_mobile": row["mobile"]})


def _ledger_operations(service: str, row: dict, success: bool, platform_no: str) -> list[dict]:
    """The ledger postings a money result means (see the module's docstring)."""
    if service == RECHARGE and success:
        return [{"op": "add", "eid": row["user_no"], "trade_no": row["request_no"], "amount": row["amount"]}]
    if service == WITHDRAW and success and row["commission"]:
        return [{"op": "add", "eid": platform_no, "trade_no": row["request_no"], "amount": row["commission"]}]
    if service == WITHDRAW and not success:
        return [{"op": "release", "eid": row["user_no"], "trade_no": row["request_no"],
                 "amount": row["amount"] + row["commission"]}]
    return []


def _post(ledger: LedgerClient, operation: dict) -> None:
    eid, trade_no, amount = operation["eid"], operation["trade_no"], operation["amount"]
    if operation["op"] == "release":
        ledger.release(eid, trade_no, amount)
        return
    try:
        ledger.add(eid, trade_no, amount)
    except NotFound:  # a user's wallet is created on opening, the platform's on its first commission
        ledger.create_account(eid, eid)
        ledger.add(eid, trade_no, amount)


def _post_batch(ledger: LedgerClient, operations: list[dict]) -> None:
    """The postings in one batch call. The batch has no release: a hold is given back by a refund of its
    deduct, and a refund without a deduct (404) is refused here, so that the one-by-one path releases
    that hold for good."""
    batch = [{**operation, "op": "refund"} if operation["op"] == "release" else operation for operation in operations]
    for operation, result in zip(batch, ledger.post_batch(batch)):
        if result.get("status") not in (200, 201):
            raise BatchRefused(f"ledger refused {operation['op']} {operation['trade_no']}: {result.get('status')} "
                               f"{result.get('msg')}")
