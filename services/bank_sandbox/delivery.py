"""Sending queued notifications: one attempt per claimed delivery, exponential back-off, faults applied
(docs/bank_sandbox.md, "Notifier and faults").

No transaction is open while a notification is on the wire. A notifier claims a due delivery in a
short transaction (``for update skip locked``) that leases it: its next attempt is moved past the
longest a send can take, so no other notifier takes it meanwhile. It sends with no transaction open,
then records the attempt in a second short transaction. Several notifiers share the queue; one
killed mid-send leaves its delivery due again when the lease ends. A send that outlived its lease
(and so may have raced another notifier's) is logged, and changes the delivery only if it was
accepted: the receivers take a notification twice as they take a fault knob's duplicate.
"""
import logging
import threading
import time
from datetime import timedelta

import requests

from shared.backoff import backoff as capped_backoff
from shared.db import unit_of_work

from bank_sandbox import faults
from bank_sandbox.config import seconds
from bank_sandbox.outbox import TARGET_SETTINGS
from bank_sandbox.repository import deliveries

log = logging.getLogger(__name__)
_ANSWER_LIMIT = 500


def backoff(config: dict, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base * 2^(attempts-1), capped."""
    return timedelta(seconds=capped_backoff(attempts, seconds(config, "NOTIFIER_BACKOFF_BASE_SECONDS"),
                                            seconds(config, "NOTIFIER_BACKOFF_MAX_SECONDS")))


def lease(config: dict) -> timedelta:
    """How long a claimed delivery is left to its notifier: longer than a send can take (connecting, then
    waiting for the answer, each bounded by NOTIFIER_TIMEOUT_SECONDS)."""
    return timedelta(seconds=2 * seconds(config, "NOTIFIER_TIMEOUT_SECONDS") + 1)


def run_once(pool, config: dict, session: requests.Session | None = None,
             stop: threading.Event | None = None) -> int:
    """Make one attempt for every delivery due now (up to NOTIFIER_BATCH); return how many were made."""
    session = session or requests.Session()
    with unit_of_work(pool) as conn:
        knobs = faults.current(conn, config)
        hold_first = knobs.reorder != "none" and _holding(deliveries.waiting_first_attempts(conn), knobs)
    made = 0
    while made < config["NOTIFIER_BATCH"] and not (stop and stop.is_set()):
        with unit_of_work(pool) as conn:
            delivery = deliveries.claim_due(conn, knobs.reorder, include_first_attempts=not hold_first)
            if delivery is None:
                break
            to_send = _drop_or_lease(conn, config, delivery)
        if to_send:
            outcome = send(config, session, delivery)
            with unit_of_work(pool) as conn:
                _record(conn, config, delivery, outcome)
        made += 1
    return made


def _holding(waiting: dict, knobs: faults.Faults) -> bool:
    """Reordering holds first attempts until a batch has gathered or the oldest has waited long enough."""
    return 0 < waiting["waiting"] < knobs.reorderBatch and waiting["oldest"] < knobs.reorderHoldSeconds


def _drop_or_lease(conn, config: dict, delivery: dict) -> bool:
    """In the claiming transaction: count a fault knob's dropped attempt (nothing to send), or lease the
    delivery for its send. True when there is something to send."""
    if not delivery["delivered"] and delivery["drops_left"] > 0:
        attempt = delivery["attempts"] + 1
        outcome = {"error": "dropped by fault knob dropFirst"}
        deliveries.log_attempt(conn, delivery, "drop", outcome, attempt)
        deliveries.mark_failed(conn, delivery, outcome, backoff(config, attempt), dropped=True)
        return False
    deliveries.lease(conn, delivery["id"], lease(config))
    return True


def _record(conn, config: dict, delivery: dict, outcome: dict) -> None:
    """Log the attempt and move the delivery on: delivered, one duplicate fewer, or retried after back-off."""
    if delivery["delivered"]:
        deliveries.log_attempt(conn, delivery, "duplicate", outcome, delivery["attempts"])
        deliveries.mark_duplicate_sent(conn, delivery)
        return
    attempt = delivery["attempts"] + 1
    deliveries.log_attempt(conn, delivery, "send", outcome, attempt)
    if outcome["accepted"]:
        deliveries.mark_delivered(conn, delivery["id"], outcome)
    else:
        log.info("delivery %s (%s) attempt %s not accepted: %s", delivery["id"], delivery["reference"], attempt,
                 outcome.get("error") or outcome.get("answer"))
        deliveries.mark_failed(conn, delivery, outcome, backoff(config, attempt), dropped=False)


def send(config: dict, session: requests.Session, delivery: dict) -> dict:
    """POST one notification; accepted only for HTTP 200 with exactly the expected reply."""
    url = config[TARGET_SETTINGS[delivery["target"]]].rstrip("/") + delivery["path"]
    payload = {"params": delivery["params"]} if delivery["encoding"] == "query" else {"data": delivery["params"]}
    started = time.perf_counter()
    try:
        response = session.post(url, timeout=seconds(config, "NOTIFIER_TIMEOUT_SECONDS"), **payload)
    except requests.RequestException as exc:
        return {"accepted": False, "error": f"{type(exc).__name__}: {exc}"[:_ANSWER_LIMIT], "elapsed_ms": _ms(started)}
    answer = response.text
    return {"accepted": response.status_code == 200 and answer == delivery["expected_reply"],
            "status": response.status_code, "answer": answer[:_ANSWER_LIMIT], "elapsed_ms": _ms(started)}


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def undelivered(pool, limit: int = 100) -> list[dict]:
    """Notifications not yet accepted, oldest first, with their attempts and last answer (operator view)."""
    with unit_of_work(pool) as conn:
        return deliveries.pending(conn, limit)


def make_due(pool, delivery_id: int | None = None) -> int:
    """Make one undelivered notification (or all of them) due now; returns how many."""
    with unit_of_work(pool) as conn:
        return deliveries.make_due(conn, delivery_id)
