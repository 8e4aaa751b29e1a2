"""Signed callbacks that contradict what is stored, or whose signed bytes read two ways.

The bank did sign them, so they are evidence: refused, never applied, and kept in ``huifu_anomaly``
for an operator (``python -m bank_callback anomalies list``, the ``bank_callback_anomalies_open``
gauge, an ERROR log line). A repeat of the same one (the bank retrying) counts up one row.
"""
import hashlib
import json
import logging
from contextlib import contextmanager

from psycopg_pool import ConnectionPool

from shared.db import unit_of_work
from shared.errors import AppError

from bank_callback.repository import anomalies as repo

log = logging.getLogger(__name__)
# ambiguous: signed bytes that read as more than one field set; trx_id_reused: a TrxId stored with other
# signed fields; ord_id_reused: an OrdId stored under another TrxId; binding_conflict: an openid or
# cust_id already bound to another customer.
KINDS = ("ambiguous", "trx_id_reused", "ord_id_reused", "binding_conflict")


class Anomaly(AppError):
    """A refusal (409 unless told otherwise) that is recorded as an anomaly of ``kind``."""

    status, code = 409, 909

    def __init__(self, kind: str, msg: str, status: int | None = None, code: int | None = None):
        super().__init__(msg, code=code, status=status)
        self.kind = kind


@contextmanager
def recorded(pool: ConnectionPool, cmd_id: str, signed: dict[str, str], fields: dict[str, str]):
    """Run the block; an :class:`Anomaly` it raises is stored (its own transaction), logged, re-raised."""
    try:
        yield
    except Anomaly as anomaly:
        fingerprint = hashlib.sha256(json.dumps(
            [anomaly.kind, cmd_id, signed, fields.get("ChkValue", "")], ensure_ascii=False).encode()).hexdigest()
        with unit_of_work(pool) as conn:
            repo.record_anomaly(conn, anomaly.kind, signed.get("TrxId", ""), cmd_id, anomaly.msg, fields, fingerprint)
        log.error("Huifu callback refused as an anomaly: %s", anomaly.msg, extra={"fields": {
            "kind": anomaly.kind, "CmdId": cmd_id, "TrxId": signed.get("TrxId", "")}})
        raise


def listed(pool: ConnectionPool, include_resolved: bool, limit: int) -> list[dict]:
    """The anomalies an operator has to look at, oldest first (``include_resolved``: the resolved ones too)."""
    with pool.connection() as conn:
        return repo.anomalies(conn, include_resolved, limit)


def resolve(pool: ConnectionPool, ids: list[int]) -> int:
    """Close the open anomalies ``ids`` once an operator has dealt with them; how many were open."""
    with unit_of_work(pool) as conn:
        return repo.resolve_anomalies(conn, ids)

