"""beanpay-ledger throughput and latency over HTTP, beside pgbench on the same PostgreSQL.

Starts the ledger under gunicorn on its own fresh database, warms up, then measures postings/s
spread over 1,000 accounts, on one hot account and through the batch endpoint, p99 latency at a
paced 1,000 requests/s, and each worker's RSS. Results: bench/results/ledger.{json,txt}.
"""
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests
from psycopg.conninfo import make_conninfo

from bench import loadgen
from beanpay_ledger import MIGRATIONS_DIR
from shared.migrations import drop_database, migrate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ACCOUNTS = 1000
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Threads per worker: many postings in flight let PostgreSQL share one WAL flush among their commits.
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "12"))
TARGETS = {  # name: (value key, comparison, target)
    "spread": ("postings_per_s", ">=", 2500),
    "hot": ("postings_per_s", ">=", 1000),
    "batch": ("postings_per_s", ">=", 15000),
    "paced_1000": ("p99_ms", "<", 25),
    "worker_rss_mb": ("max", "<", 100),
}


def _server_url() -> str:
    return os.environ.get("PG_SERVER_URL") or os.environ.get("TEST_PG_SERVER_URL") or "postgresql://postgres@127.0.0.1:5432"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_ledger(database_url: str, token: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}", "DATABASE_URL": database_url,
           "INTERNAL_TOKENS": token, "INTERNAL_TOKEN": token, "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": str(WORKERS),
           "DB_POOL_MAX": str(THREADS)}
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                                    "--worker-class", "gthread", "--threads", str(THREADS),
                                    "--bind", f"127.0.0.1:{port}", "beanpay_ledger.wsgi:app"],
                                   env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the ledger did not start; see {log_path}")


def _worker_rss_mb(master_pid: int) -> list[float]:
    """VmRSS of each gunicorn worker (the master's children), in MB."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", status, re.M):
            sizes.append(round(int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024, 1))
    return sizes


def _posting(eids: list[str], prefix: str):
    def make(index: int, sequence: int):
        eid = eids[(index * 7919 + sequence * 104729) % len(eids)]
        body = json.dumps({"eid": eid, "trade_no": f"{prefix}-{index}-{sequence}", "amount": 1}).encode()
        return "/account/balance/add", body, 1
    return make


def _batch(eids: list[str], size: int = 1000):
    def make(index: int, sequence: int):
        operations = [{"op": "add", "eid": eids[(sequence * size + n + index * 31) % len(eids)],
                       "trade_no": f"b-{index}-{sequence}-{n}", "amount": 1} for n in range(size)]
        return "/account/balance/batch", json.dumps({"operations": operations}).encode(), size
    return make


def _pgbench(server_url: str, seconds: float) -> dict:
    """pgbench -N (simple update) and a one-row hot update, on a scratch database."""
    database_url = make_conninfo(server_url, dbname=f"bench_pgbench_{os.getpid()}")
    migrate(database_url, Path(tempfile.mkdtemp()))  # creates the empty database
    params = psycopg.conninfo.conninfo_to_dict(database_url)
    base = ["-h", params.get("host", "127.0.0.1"), "-p", str(params.get("port", 5432)),
            "-U", params.get("user", "postgres")]
    env = {**os.environ, **({"PGPASSWORD": params["password"]} if params.get("password") else {})}
    results = {}
    try:
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", *base, params["dbname"]], env=env, check=True,
                       capture_output=True)
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write("update pgbench_accounts set abalance = abalance + 1 where aid = 1;\n")
        for name, extra in (("pgbench -N", ["-N"]), ("pgbench hot row", ["-f", script.name])):
            run = subprocess.run(["pgbench", *extra, "-c", str(CLIENTS), "-j", "2", "-T", str(int(seconds)), "-n",
                                  *base, params["dbname"]], env=env, check=True, capture_output=True, text=True)
            tps = re.search(r"tps = ([0-9.]+)", run.stdout)
            latency = re.search(r"latency average = ([0-9.]+) ms", run.stdout)
            results[name] = {"tps": float(tps.group(1)), "latency_avg_ms": float(latency.group(1)) if latency else None}
    finally:
        drop_database(database_url)
    return results


def _verdict(name: str, value) -> str:
    key, comparison, target = TARGETS[name]
    passed = value >= target if comparison == ">=" else value < target
    return f"{'ok  ' if passed else 'MISS'} (target {comparison} {target})"


def main(seconds: float = 10.0) -> int:
    """Run the ledger benchmark; print and save the figures; return the number of missed targets."""
    server_url = _server_url()
    database_url = make_conninfo(server_url, dbname=f"bench_ledger_{os.getpid()}")
    token = secrets.token_urlsafe(24)
    RESULTS.mkdir(parents=True, exist_ok=True)
    migrate(database_url, MIGRATIONS_DIR)
    process = None
    try:
        eids = [f"bench-{n:04d}" for n in range(ACCOUNTS)]
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("select account_open(eid, 'bench', '', 0) from unnest(%s::text[]) eid", (eids,))
        process, url = _start_ledger(database_url, token, Path(tempfile.gettempdir()) / "bench-ledger-gunicorn.log")
        print(f"ledger under gunicorn ({WORKERS} gthread workers x {THREADS} threads) at {url}; {CLIENTS} client processes; "
              f"{seconds:g}s per phase", flush=True)
        loadgen.run(url, token, _posting(eids, "warm"), CLIENTS, min(3.0, seconds))
        figures = {
            "spread": loadgen.run(url, token, _posting(eids, "spread"), CLIENTS, seconds),
            "hot": loadgen.run(url, token, _posting(eids[:1], "hot"), CLIENTS, seconds),
            "batch": loadgen.run(url, token, _batch(eids), max(2, CLIENTS // 2), seconds),
            "paced_1000": loadgen.run(url, token, _posting(eids, "paced"), CLIENTS, seconds, rate=1000),
        }
        rss = _worker_rss_mb(process.pid)
        figures["worker_rss_mb"] = {"workers": rss, "max": max(rss)}
        with psycopg.connect(database_url, autocommit=True) as conn:
            drift = conn.execute("select count(*) from account a where balance <> (select coalesce(sum(amount), 0)"
                                 " from account_record r where r.account_id = a.account_id)").fetchone()[0]
        figures["invariant_violations"] = drift
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(15)
        drop_database(database_url)
    figures["pgbench"] = _pgbench(server_url, seconds)
    report = _report(figures, seconds)
    print(report)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / "ledger.json").write_text(json.dumps({"when": stamp, "seconds": seconds, "workers": WORKERS,
                                                     "threads": THREADS,
                                                     "clients": CLIENTS, "cpus": os.cpu_count(), **figures}, indent=2))
    (RESULTS / "ledger.txt").write_text(report + "\n")
    return sum("MISS" in line for line in report.splitlines())


def _report(figures: dict, seconds: float) -> str:
    lines = [f"beanpay-ledger bench: {WORKERS} gunicorn gthread workers x {THREADS} threads, {CLIENTS} client processes, {os.cpu_count()} CPUs, "
             f"{seconds:g}s per phase"]
    for name in ("spread", "hot", "batch"):
        f = figures[name]
        lines.append(f"  {name:<12} {f['postings_per_s']:>10,.0f} postings/s  ({f['requests_per_s']:,.0f} req/s, "
                     f"p99 {f['p99_ms']} ms, {f['failed']} failed)  {_verdict(name, f['postings_per_s'])}")
    paced = figures["paced_1000"]
    lines.append(f"  paced 1000/s p99 {paced['p99_ms']:>6} ms (p50 {paced['p50_ms']} ms, achieved "
                 f"{paced['requests_per_s']:,.0f} req/s, {paced['failed']} failed)  {_verdict('paced_1000', paced['p99_ms'])}")
    rss = figures["worker_rss_mb"]
    lines.append(f"  worker RSS   {rss['workers']} MB  {_verdict('worker_rss_mb', rss['max'])}")
    lines.append(f"  balance = sum(records) violations: {figures['invariant_violations']}")
    for name, f in figures["pgbench"].items():
        lines.append(f"  {name:<16} {f['tps']:>10,.0f} tps (latency avg {f['latency_avg_ms']} ms)")
    return "\n".join(lines)
