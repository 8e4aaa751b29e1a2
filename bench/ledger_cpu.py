"""CPU per ledger posting: ``python -m bench.ledger_cpu [--seconds 15]``.

Throughput on a shared machine moves with everybody else's load; the CPU time a posting costs moves much
less, as long as the load does not decide how postings are grouped. This bench starts the ledger as
``bench/ledger.py`` does (gunicorn, its own fresh database, 1,000 accounts), drives it with wrk, and reads
from /proc the CPU time of the ledger's gunicorn workers and of this database's PostgreSQL backends (the
server-wide WAL writer, checkpointer and background writer serve every database of the machine, so they
are left out). Phases:

- ``single x1``: one add per request over 1,000 accounts, one request at a time: every posting its own
  group and commit, whatever else runs on the machine;
- ``batch x1``: 1,000 adds per request through ``/account/balance/batch``, one request at a time;
- ``single 500/s``: paced at 500 requests/s (16 connections): groups of one or two when the machine keeps
  up, larger when it does not (then the figure falls, and says less).

Prints microseconds of CPU per posting (ledger workers, PostgreSQL backends, total) and writes
bench/results/ledger_cpu.txt.
"""
import argparse
import os
import secrets
import signal
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from bench import wrk
from bench.ledger import ACCOUNTS, BATCH_SIZE, RESULTS, SCRIPT, _server_url, _start_ledger
from bench.probes import children_of, process_cpu_s, wait_until_idle
from beanpay_ledger import MIGRATIONS_DIR
from shared.migrations import drop_database, migrate

PHASES = (  # name, wrk options
    ("single x1", {"accounts": ACCOUNTS, "connections": 1}),
    ("batch x1", {"mode": "batch", "accounts": ACCOUNTS, "connections": 1}),
    ("single 500/s", {"accounts": ACCOUNTS, "rate": 500, "connections": 16}),
)


def _cpu_s(master: int, conn: psycopg.Connection) -> tuple[float, float]:
    """CPU seconds so far of the ledger's workers and of the database's backends (this probe's own aside)."""
    pids = [row[0] for row in conn.execute("select pid from pg_stat_activity where datname = current_database()"
                                           " and pid <> pg_backend_pid()")]
    return sum(map(process_cpu_s, children_of(master))), sum(map(process_cpu_s, pids))


def _phase(master: int, database_url: str, url: str, token: str, seconds: float, name: str, load: dict) -> dict:
    wait_until_idle(database_url)
    carried = BATCH_SIZE if load.get("mode") == "batch" else 1
    with psycopg.connect(database_url, autocommit=True) as conn:
        # A backend that ends during the phase takes its CPU along; the pool keeps its connections open.
        before = _cpu_s(master, conn)
        figures = wrk.run(url, token, SCRIPT, seconds, carried=carried, batch_size=BATCH_SIZE,
                          prefix=name.split()[0] + str(time.monotonic_ns()), **load)
        wait_until_idle(database_url)
        after = _cpu_s(master, conn)
    postings = (figures["statuses"].get(200, 0) + figures["statuses"].get(201, 0)) * carried
    ledger_us, postgres_us = ((a - b) / postings * 1e6 for a, b in zip(after, before))
    return {"phase": name, "postings": round(postings), "failed": figures["failed"], "ledger_us": ledger_us,
            "postgres_us": postgres_us, "total_us": ledger_us + postgres_us, "p99_ms": figures["p99_ms"]}


def measure(seconds: float) -> list[dict]:
    """Run the phases on a fresh ledger; one row of figures per phase."""
    wrk.ensure_wrk()
    database_url = make_conninfo(_server_url(), dbname=f"bench_ledger_cpu_{os.getpid()}")
    token = secrets.token_urlsafe(24)
    migrate(database_url, MIGRATIONS_DIR)
    process = None
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("select account_open(eid, 'bench', '', 0) from unnest(%s::text[]) eid",
                         ([f"bench-{n:04d}" for n in range(ACCOUNTS)],))
        process, url = _start_ledger(database_url, token, Path(tempfile.gettempdir()) / "bench-ledger-cpu.log")
        wrk.run(url, token, SCRIPT, 3, connections=16, prefix="warm", accounts=ACCOUNTS)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("vacuum analyze")  # statistics of a database in use (bench/ledger.py, _analyze)
        rows = [_phase(process.pid, database_url, url, token, seconds, name, load) for name, load in PHASES]
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(15)
        drop_database(database_url)
    return rows


def report(rows: list[dict]) -> str:
    lines = [f"{'phase':<14} {'postings':>9} {'failed':>6} {'ledger us':>10} {'postgres us':>12} {'total us':>9}"
             f" {'p99 ms':>7}   (CPU microseconds per posting)"]
    for row in rows:
        lines.append(f"{row['phase']:<14} {row['postings']:>9,} {row['failed']:>6} {row['ledger_us']:>10.1f} "
                     f"{row['postgres_us']:>12.1f} {row['total_us']:>9.1f} {row['p99_ms']:>7}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    text = report(measure(parser.parse_args().seconds))
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ledger_cpu.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
