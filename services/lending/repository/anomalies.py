"""anomalies: what an operator must look at."""
import logging

log = logging.getLogger("lending.anomalies")


def record(conn, kind: str, reference: str, detail: str) -> None:
    """Store an anomaly in the caller's transaction and raise an alert in the log."""
    conn.execute("insert into anomalies (kind, reference, detail) values (%s, %s, %s)",
                 (kind, reference, detail[:1000]))
    log.error("%s %s: %s", kind, reference, detail,
              extra={"fields": {"alert": f"lending-{kind}", "reference": reference}})


def recent(conn, limit: int) -> list[dict]:
    return conn.execute("select * from anomalies order by id desc limit %s", (limit,)).fetchall()
