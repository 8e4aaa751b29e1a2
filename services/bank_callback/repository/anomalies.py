"""``huifu_anomaly``: signed callbacks refused because they contradict what is stored, for an operator."""
from psycopg import Connection
from psycopg.types.json import Jsonb


def record_anomaly(conn: Connection, kind: str, trx_id: str, cmd_id: str, detail: str, fields: dict,
                   fingerprint: str) -> None:
    """Keep a refused signed callback for an operator; the same one again counts up (and reopens it)."""
    conn.execute(
        "insert into huifu_anomaly (kind, trx_id, cmd_id, detail, fields, fingerprint)"
        " values (%s, %s, %s, %s, %s, %s)"
        " on conflict (fingerprint) do update set occurrences = huifu_anomaly.occurrences + 1,"
        "   last_seen = now(), resolved_at = null",
        (kind, trx_id, cmd_id, detail, Jsonb(fields), fingerprint),
    )


def anomalies(conn: Connection, include_resolved: bool, limit: int) -> list[dict]:
    """Anomalies, oldest first: only the open ones unless ``include_resolved``."""
    return conn.execute(
        "select id, kind, trx_id, cmd_id, detail, fields, occurrences, first_seen, last_seen, resolved_at"
        " from huifu_anomaly where %s or resolved_at is null order by first_seen, id limit %s",
        (include_resolved, limit),
    ).fetchall()


def resolve_anomalies(conn: Connection, ids: list[int]) -> int:
    """Mark open anomalies ``ids`` as resolved; how many were."""
    return conn.execute("update huifu_anomaly set resolved_at = now() where id = any(%s) and resolved_at is null",
                        (ids,)).rowcount


def open_anomaly_counts(conn: Connection) -> list[dict]:
    """Open anomalies by kind (for /metrics)."""
    return conn.execute("select kind, count(*) as n from huifu_anomaly where resolved_at is null group by kind"
                        ).fetchall()
