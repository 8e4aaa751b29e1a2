"""Receiving lending's callbacks: verify the envelope, apply the fault knobs, keep each eventId once."""
import time

from shared.db import unit_of_work
from shared.contract import CALLBACK_EVENTS
from shared.partner_envelope import EnvelopeError, open_envelope

from partner_sandbox.repository import callbacks as repo


class Faulted(Exception):
    """The fault knob fails this delivery on purpose."""


def faults(pool, config: dict) -> dict:
    """``{failFirst, delayMs}``: the stored knobs, else the configured defaults."""
    with pool.connection() as conn:
        stored = repo.faults(conn)
    if stored is None:
        return {"failFirst": config["SANDBOX_CALLBACK_FAIL_FIRST"], "delayMs": config["SANDBOX_CALLBACK_DELAY_MS"]}
    return {"failFirst": stored["fail_first"], "delayMs": stored["delay_ms"]}


def set_faults(pool, fail_first: int, delay_ms: int) -> dict:
    with unit_of_work(pool) as conn:
        repo.set_faults(conn, fail_first, delay_ms)
    return {"failFirst": fail_first, "delayMs": delay_ms}


def receive(pool, config: dict, envelope: object) -> bool:
    """Verify and keep one callback; True the first time its eventId arrives. Raises EnvelopeError for a
    callback that is not lending's, and :class:`Faulted` while the fault knob fails its first deliveries."""
    biz = open_envelope(envelope, config["RONGSHU_APP_ID"], config["RONGSHU_SECRET"], int(time.time() * 1000))
    event_id, event, order_no = biz.get("eventId"), biz.get("event"), biz.get("orderNo")
    if not all(isinstance(value, str) and value for value in (event_id, event, order_no)):
        raise EnvelopeError("bizData needs eventId, event and orderNo")
    if event not in CALLBACK_EVENTS:
        raise EnvelopeError(f"unknown event {event[:40]!r}")
    knobs = faults(pool, config)
    if knobs["delayMs"]:
        time.sleep(knobs["delayMs"] / 1000)
    with unit_of_work(pool) as conn:
        deliveries = repo.count_delivery(conn, event_id)
    if deliveries <= knobs["failFirst"]:
        raise Faulted(f"fault knob: failing delivery {deliveries} of the first {knobs['failFirst']}")
    with unit_of_work(pool) as conn:
        return repo.store(conn, event_id, event, order_no, biz)
