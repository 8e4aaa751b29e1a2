"""Queueing notifications in the bank's own database, in the caller's transaction (outbox): the notifier
(:mod:`bank_sandbox.delivery`) sends them after the transaction that made them has committed."""
from shared import contract

from bank_sandbox import faults
from bank_sandbox.repository import deliveries

AGENT, BANK_CALLBACK = "depository-agent", "bank-callback"
TARGET_SETTINGS = {AGENT: "DEPOSITORY_AGENT_URL", BANK_CALLBACK: "BANK_CALLBACK_URL"}


def enqueue(conn, config: dict, target: str, path: str, encoding: str, reference: str, params: dict,
            expected_reply: str) -> int:
    """Queue one notification to ``target``'s ``path``, stamped with the fault knobs in force."""
    stamp = faults.stamp(faults.current(conn, config))
    return deliveries.insert(conn, target, path, encoding, reference, params, expected_reply,
                             stamp.drops, stamp.duplicates, stamp.delay)


def enqueue_wanxin(conn, config: dict, reference: str, signed_params: dict) -> int:
    """Queue a signed wanxin notification to the depository agent's /gateway; it must answer exactly OK."""
    return enqueue(conn, config, AGENT, contract.GATEWAY_NOTIFY_PATH, "query", reference, signed_params,
                   contract.GATEWAY_NOTIFY_RECEIPT)


def enqueue_huifu(conn, config: dict, path: str, trx_id: str, fields: dict) -> int:
    """Queue a Huifu background callback to bank-callback's ``path`` (form-encoded); it must answer exactly
    ``RECV_ORD_ID_<TrxId>``."""
    return enqueue(conn, config, BANK_CALLBACK, path, "form", trx_id, fields, contract.huifu_receipt(trx_id))
