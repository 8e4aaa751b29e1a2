"""Queueing notifications in the bank's own database, in the caller's transaction (outbox)."""
from bank_sandbox.domain import faults
from bank_sandbox.repositories import deliveries
from bank_sandbox.repositories import faults as fault_store

AGENT, BANK_CALLBACK = "depository-agent", "bank-callback"
TARGET_SETTINGS = {AGENT: "DEPOSITORY_AGENT_URL", BANK_CALLBACK: "BANK_CALLBACK_URL"}


def enqueue(conn, config: dict, target: str, path: str, encoding: str, reference: str, params: dict,
            expected_reply: str) -> int:
    """Queue one notification to ``target``'s ``path``, stamped with the fault knobs in force."""
    stamp = faults.stamp(current_faults(conn, config))
    return deliveries.insert(conn, target, path, encoding, reference, params, expected_reply,
                             stamp.drops, stamp.duplicates, stamp.delay)


def current_faults(conn, config: dict) -> faults.Faults:
    """The fault knobs in force now."""
    return faults.effective(config, fault_store.get(conn))


def enqueue_wanxin(conn, config: dict, reference: str, signed_params: dict) -> int:
    """Queue a signed wanxin notification to the depository agent's /gateway; it must answer exactly OK."""
    return enqueue(conn, config, AGENT, "/gateway", "query", reference, signed_params, "OK")
