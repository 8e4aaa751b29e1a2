"""What bounds a bench phase: CPU used per process group (from /proc) and PostgreSQL's commits and WAL
flushes over the same interval."""
import os
import re
import time
from pathlib import Path

import psycopg

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def children_of(parent: int) -> list[int]:
    """The pids whose parent is ``parent`` (gunicorn's workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{parent}$", status, re.M):
                pids.append(int(entry.name))
    return pids


def _machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, summed over CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


class Probe:
    """Measure one phase: ``with Probe(...) as probe: run()``; then ``probe.figures``.

    ``ledger_master`` is gunicorn's pid (its workers are measured); PostgreSQL is measured through the
    backends of ``database_url``'s database (autovacuum included) plus the WAL writer, checkpointer and
    background writer, which serve every database of the server.
    The load generator is a child of this process: its CPU comes from ``os.times()``.
    """

    def __init__(self, ledger_master: int, database_url: str):
        self.master = ledger_master
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.dbname = self.conn.info.dbname
        self.figures: dict = {}

    def _postgres_pids(self) -> list[int]:
        return [row[0] for row in self.conn.execute(
            "select pid from pg_stat_activity where datname = %s"
            " or backend_type in ('walwriter', 'checkpointer', 'background writer')",
            (self.dbname,))]

    def _snapshot(self) -> dict:
        workers = children_of(self.master)
        postgres = self._postgres_pids()
        commits, syncs, writes = self.conn.execute(
            "select (select xact_commit from pg_stat_database where datname = %s), wal_sync, wal_write"
            " from pg_stat_wal", (self.dbname,)).fetchone()
        self.conn.execute("select pg_stat_clear_snapshot()")
        children = os.times()
        return {"at": time.monotonic(), "workers": {pid: process_cpu_s(pid) for pid in workers},
                "postgres": {pid: process_cpu_s(pid) for pid in postgres},
                "loadgen": children.children_user + children.children_system, "machine": _machine_busy_s(),
                "commits": commits, "wal_syncs": syncs, "wal_writes": writes}

    def __enter__(self) -> "Probe":
        self.before = self._snapshot()
        return self

    def __exit__(self, *exc) -> None:
        after = self._snapshot()
        before = self.before
        elapsed = after["at"] - before["at"]

        def cores(group: str) -> float:
            used = sum(cpu - before[group].get(pid, 0.0) for pid, cpu in after[group].items())
            return round(used / elapsed, 2)

        busy = after["machine"][0] - before["machine"][0]
        per_worker = [round((cpu - before["workers"].get(pid, 0.0)) / elapsed, 2)
                      for pid, cpu in sorted(after["workers"].items())]
        self.figures = {
            "cpu_cores": {"ledger_workers": cores("workers"), "per_worker": per_worker,
                          "postgres": cores("postgres"),
                          "loadgen": round((after["loadgen"] - before["loadgen"]) / elapsed, 2),
                          "machine_busy": round(busy / elapsed, 2), "machine_cpus": os.cpu_count()},
            "commits_per_s": round((after["commits"] - before["commits"]) / elapsed, 1),
            "wal_flushes_per_s": round((after["wal_syncs"] - before["wal_syncs"]) / elapsed, 1),
        }
        self.conn.close()


def wait_until_idle(database_url: str, timeout_s: float = 60.0) -> float:
    """Wait until no backend of ``database_url``'s database runs a statement (the requests a load generator
    left in flight when it stopped are answered); the seconds waited. A phase then starts on a quiet server
    instead of queueing behind the previous phase's tail."""
    started = time.monotonic()
    quiet_checks = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        while quiet_checks < 3 and time.monotonic() - started < timeout_s:
            active = conn.execute("select count(*) from pg_stat_activity where datname = current_database()"
                                  " and state = 'active' and pid <> pg_backend_pid()").fetchone()[0]
            quiet_checks = quiet_checks + 1 if active == 0 else 0
            time.sleep(0.05)
    return time.monotonic() - started


def checkpoint(database_url: str) -> None:
    """Write PostgreSQL's dirty buffers now (``CHECKPOINT``, as superuser), so that a checkpoint the previous
    benchmarks' WAL started does not spread its writes over the next measured phase."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("checkpoint")
