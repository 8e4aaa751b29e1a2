"""Fault knobs that make the bank misbehave on purpose: duplicates, delays, reordering, dropped attempts
of its notifications, and late or lost answers of ``POST /service``.

Effective settings = the configuration (``SANDBOX_FAULT_*``) overlaid by what ``POST /sandbox/faults``
stored. Duplicates, drops and delay are stamped on each delivery when it is enqueued; reordering is
applied by the notifier when it picks deliveries; the answer faults are decided for each new result of
``POST /service`` in the transaction that records it, and applied after its commit.
"""
import random
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from shared.db import unit_of_work
from shared.errors import BadRequest

from bank_sandbox.config import seconds
from bank_sandbox.repository import faults as stored_faults

REORDER_MODES = ("none", "newest_first", "shuffle")
# What happens to the answer of a POST /service that recorded a new result: nothing, the connection is
# closed without an answer, or a 502 (as a proxy that lost the bank's answer would say).
LOSE_MODES = ("none", "close", "error")
# Each numeric knob's range: the knobs given are checked against it, and the OpenAPI document states it.
WHOLE_RANGES = {"duplicates": (0, 100), "dropFirst": (0, 100), "reorderBatch": (1, 1000)}
NUMBER_RANGES = {"duplicateProbability": (0, 1), "dropProbability": (0, 1), "delaySeconds": (0, 3600),
                 "reorderHoldSeconds": (0, 3600), "serviceFaultProbability": (0, 1),
                 # below gunicorn's worker timeout (30 s), which would kill a worker sleeping longer
                 "serviceDelaySeconds": (0, 25)}


@dataclass(frozen=True)
class Faults:
    """One set of fault knobs, named as in the JSON of ``/sandbox/faults``."""

    duplicates: int = 0
    duplicateProbability: float = 1.0
    delaySeconds: float = 0.0
    dropFirst: int = 0
    dropProbability: float = 1.0
    reorder: str = "none"
    reorderBatch: int = 2
    reorderHoldSeconds: float = 5.0
    serviceDelaySeconds: float = 0.0
    serviceLoseAnswer: str = "none"
    serviceFaultProbability: float = 1.0

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AnswerFault:
    """What the faults decide for the answer of one new ``POST /service`` result: wait ``delay`` seconds
    after the commit, then answer, or lose the answer (``lose``: close or error)."""

    delay: float
    lose: str


@dataclass(frozen=True)
class Stamp:
    """What the faults decide for one new delivery."""

    duplicates: int
    drops: int
    delay: timedelta


def from_config(config: dict) -> Faults:
    """The fault knobs the configuration sets."""
    return validated(Faults(), {
        "duplicates": config["SANDBOX_FAULT_DUPLICATES"],
        "duplicateProbability": float(config["SANDBOX_FAULT_DUPLICATE_PROBABILITY"]),
        "delaySeconds": seconds(config, "SANDBOX_FAULT_DELAY_SECONDS"),
        "dropFirst": config["SANDBOX_FAULT_DROP_FIRST"],
        "dropProbability": float(config["SANDBOX_FAULT_DROP_PROBABILITY"]),
        "reorder": config["SANDBOX_FAULT_REORDER"],
        "reorderBatch": config["SANDBOX_FAULT_REORDER_BATCH"],
        "reorderHoldSeconds": seconds(config, "SANDBOX_FAULT_REORDER_HOLD_SECONDS"),
        "serviceDelaySeconds": seconds(config, "SANDBOX_FAULT_SERVICE_DELAY_SECONDS"),
        "serviceLoseAnswer": config["SANDBOX_FAULT_SERVICE_LOSE_ANSWER"],
        "serviceFaultProbability": float(config["SANDBOX_FAULT_SERVICE_PROBABILITY"]),
    })


def current(conn, config: dict) -> Faults:
    """The fault knobs in force now, read in the caller's transaction."""
    return effective(config, stored_faults.get(conn))


def view(pool, config: dict) -> dict:
    """The knobs in force, and where they come from: ``configuration``, or ``api`` once changed."""
    with unit_of_work(pool) as conn:
        stored = stored_faults.get(conn)
    return {**effective(config, stored).as_json(), "source": "api" if stored else "configuration"}


def change(pool, config: dict, changes: dict) -> dict:
    """Change some knobs, the others keeping their values; stored, so every process of the bank applies them."""
    if not changes:
        raise BadRequest("name at least one fault knob to change")
    with unit_of_work(pool) as conn:
        stored_faults.put(conn, validated(current(conn, config), changes).as_json())
    return view(pool, config)


def reset(pool, config: dict) -> dict:
    """Back to the knobs of the configuration."""
    with unit_of_work(pool) as conn:
        stored_faults.clear(conn)
    return view(pool, config)


def effective(config: dict, stored: dict | None) -> Faults:
    """The knobs in force: configuration, overlaid by the stored API settings."""
    base = from_config(config)
    return validated(base, stored) if stored else base


def validated(base: Faults, changes: dict) -> Faults:
    """``base`` with ``changes`` applied; :class:`BadRequest` for an unknown knob or a value out of range."""
    unknown = set(changes) - set(Faults.__dataclass_fields__)
    if unknown:
        raise BadRequest(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
    for name, (low, high) in WHOLE_RANGES.items():
        if name in changes:
            value = changes[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    for name, (low, high) in NUMBER_RANGES.items():
        if name in changes:
            value = changes[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise BadRequest(f"{name} must be a number from {low} to {high}")
            changes = {**changes, name: float(value)}
    if "reorder" in changes and changes["reorder"] not in REORDER_MODES:
        raise BadRequest(f"reorder must be one of {', '.join(REORDER_MODES)}")
    if "serviceLoseAnswer" in changes and changes["serviceLoseAnswer"] not in LOSE_MODES:
        raise BadRequest(f"serviceLoseAnswer must be one of {', '.join(LOSE_MODES)}")
    return replace(base, **changes)


def stamp(faults: Faults, rng: random.Random | None = None) -> Stamp:
    """Decide the duplicates, dropped first attempts and delay of one new delivery."""
    rng = rng or random
    duplicates = faults.duplicates if faults.duplicates and rng.random() < faults.duplicateProbability else 0
    drops = faults.dropFirst if faults.dropFirst and rng.random() < faults.dropProbability else 0
    return Stamp(duplicates=duplicates, drops=drops, delay=timedelta(seconds=faults.delaySeconds))


def answer_fault(faults: Faults, rng: random.Random | None = None) -> AnswerFault | None:
    """Decide the fault of the answer to one new ``POST /service`` result (None: answer at once)."""
    if not faults.serviceDelaySeconds and faults.serviceLoseAnswer == "none":
        return None
    if (rng or random).random() >= faults.serviceFaultProbability:
        return None
    return AnswerFault(delay=faults.serviceDelaySeconds, lose=faults.serviceLoseAnswer)
