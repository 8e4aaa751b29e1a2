"""``gateway_notify_anomaly``: bank results that were recorded for an operator instead of applied."""
import hashlib
import json

from psycopg import Connection
from psycopg.types.json import Jsonb


def record(conn: Connection, reason: str, payload: dict, message_id: str | None) -> None:
    """Store the anomaly once per distinct (reason, payload); repeats only raise ``occurrences``."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    fingerprint = hashlib.sha256(f"{reason}\n{canonical}".encode("utf-8")).hexdigest()
    conn.execute(
        "insert into gateway_notify_anomaly (fingerprint, message_id, service_name, request_no, reason, payload)"
        " values (%s, %s, %s, %s, %s, %s)"
        " on conflict (fingerprint) do update set occurrences = gateway_notify_anomaly.occurrences + 1,"
        " last_seen_at = now()",
        (fingerprint, message_id, str(payload.get("serviceName"))[:64], str(payload.get("requestNo"))[:64],
         reason, Jsonb(payload)),
    )
