"""beanpay-ledger throughput and latency over HTTP, beside pgbench on the same PostgreSQL.

Starts the ledger under gunicorn on its own fresh database, warms up, then measures postings/s
spread over 1,000 accounts, on one hot account and through the batch endpoint, p99 latency at a
paced 1,000 requests/s, and each worker's RSS. The load comes from wrk (bench/ledger.lua); each
phase also records the CPU used by the ledger's workers, PostgreSQL and wrk, and PostgreSQL's commits
and WAL flushes per second (bench/probes.py), which tell what bounds it.
Results: bench/results/ledger.{json,txt}.
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

from bench import wrk
from bench.probes import Probe, children_of, wait_until_idle
from tests.support.processes import free_port
from beanpay_ledger import MIGRATIONS_DIR
from shared.migrations import drop_database, migrate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCRIPT = Path(__file__).with_name("ledger.lua")
ACCOUNTS = 1000
BATCH_SIZE = 1000
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "16"))
# Open connections of the load generator (concurrent requests in flight) for the as-fast-as-possible phases.
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
BATCH_CONNECTIONS = int(os.environ.get("BENCH_BATCH_CONNECTIONS", "4"))
PACED_RATE = 1000
PACED_CONNECTIONS = 64  # enough that a free connection is always there at the scheduled time
REPLAY_EVERY = 50  # every 50th posting repeats an earlier trade number: a replay (201)
PGBENCH_CLIENTS = 12
TARGETS = {  # name: (value key, comparison, target)
    "spread": ("postings_per_s", ">=", 2500),
    "hot": ("postings_per_s", ">=", 1000),
    "batch": ("postings_per_s", ">=", 15000),
    "paced_1000": ("p99_ms", "<", 25),
    "worker_rss_mb": ("max", "<", 100),
}


def _server_url() -> str:
    return os.environ.get("PG_SERVER_URL") or os.environ.get("TEST_PG_SERVER_URL") or "postgresql://postgres@127.0.0.1:5432"


def gunicorn_argv(port: int) -> list[str]:
    """The ledger's command line under test (the recommended Procfile line, with the bench's worker and
    thread counts). ``--reuse-port`` gives each worker its own listening socket, so the kernel spreads
    connections evenly instead of the first worker to wake taking most of them."""
    return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", str(THREADS), "--reuse-port",
            "--bind", f"127.0.0.1:{port}", "beanpay_ledger.wsgi:app"]


def _start_ledger(database_url: str, token: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}", "DATABASE_URL": database_url,
           "INTERNAL_TOKENS": token, "INTERNAL_TOKEN": token, "LOG_LEVEL": "WARNING"}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(gunicorn_argv(port), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
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
    for pid in children_of(master_pid):
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(round(int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024, 1))
    return sizes


def _phase(process: subprocess.Popen, database_url: str, url: str, token: str, seconds: float, **load) -> dict:
    """One wrk run with its CPU and commit figures."""
    carried = BATCH_SIZE if load.get("mode") == "batch" else 1
    with Probe(process.pid, database_url) as probe:
        figures = wrk.run(url, token, SCRIPT, seconds, carried=carried, batch_size=BATCH_SIZE, **load)
    return {**figures, **probe.figures}


def _analyze(database_url: str) -> None:
    """Statistics of a database in use, as autovacuum keeps them. Taken after the warm-up: statistics of a
    still empty account_record would make the plans cached meanwhile probe an account's records one by
    one instead of by trade number (docs/beanpay_ledger.md, "Query plans and statistics")."""
    wait_until_idle(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("vacuum analyze")


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
            run = subprocess.run(["pgbench", *extra, "-c", str(PGBENCH_CLIENTS), "-j", "2", "-T", str(int(seconds)), "-n",
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


def run(seconds: float = 10.0) -> list[dict]:
    """Run the ledger benchmark; print and save the figures; answer ``{name, value, unit, target, ok}`` rows."""
    figures = measure(seconds)
    units = {"spread": "postings/s", "hot": "postings/s", "batch": "postings/s", "paced_1000": "ms",
             "worker_rss_mb": "MB"}
    labels = {"spread": "ledger postings over 1,000 accounts", "hot": "ledger postings on one hot account",
              "batch": "ledger postings via the batch endpoint", "paced_1000": "ledger p99 at a paced 1,000/s",
              "worker_rss_mb": "ledger worker RSS (max)"}
    table = []
    for name, (key, comparison, target) in TARGETS.items():
        value = figures[name][key]
        ok = value >= target if comparison == ">=" else value < target
        table.append({"name": labels[name], "value": round(value, 1), "unit": units[name],
                      "target": f"{comparison} {target}", "ok": ok})
    table += [{"name": f"ledger {name} (same run)", "value": round(result["tps"]), "unit": "tps", "target": None,
               "ok": True} for name, result in figures["pgbench"].items()]
    return table


def measure(seconds: float = 10.0) -> dict:
    """Run the ledger benchmark's phases; print and save the figures, and return them."""
    wrk.ensure_wrk()
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
        print(f"ledger under gunicorn ({WORKERS} gthread workers x {THREADS} threads) at {url}; wrk with "
              f"{CONNECTIONS} connections; {seconds:g}s per phase", flush=True)

        def phase(name: str, **load) -> dict:
            wait_until_idle(database_url)
            figures = _phase(process, database_url, url, token, seconds, prefix=name, **load)
            print(f"  {name}: {figures}", flush=True)
            return figures

        _phase(process, database_url, url, token, min(3.0, seconds), prefix="warm", accounts=ACCOUNTS,
               connections=CONNECTIONS)
        _analyze(database_url)
        figures = {
            "spread": phase("spread", accounts=ACCOUNTS, replay=REPLAY_EVERY, connections=CONNECTIONS),
            "hot": phase("hot", accounts=1, replay=REPLAY_EVERY, connections=CONNECTIONS),
            "batch": phase("batch", mode="batch", accounts=ACCOUNTS, connections=BATCH_CONNECTIONS),
            "paced_1000": phase("paced", accounts=ACCOUNTS, replay=REPLAY_EVERY, rate=PACED_RATE,
                                connections=PACED_CONNECTIONS),
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
    command = " ".join(gunicorn_argv(0)[1:]).replace(sys.executable, "python").replace(str(ROOT) + "/", "")
    (RESULTS / "ledger.json").write_text(json.dumps({
        "when": stamp, "seconds": seconds, "server": command, "workers": WORKERS, "threads": THREADS,
        "connections": CONNECTIONS, "batch_connections": BATCH_CONNECTIONS, "paced_connections": PACED_CONNECTIONS,
        "cpus": os.cpu_count(), **figures}, indent=2))
    (RESULTS / "ledger.txt").write_text(report + "\n")
    return figures


def _cpu(figures: dict) -> str:
    cpu = figures["cpu_cores"]
    ours = cpu["ledger_workers"] + cpu["postgres"] + cpu["loadgen"]
    others = max(0.0, cpu["machine_busy"] - ours)
    return (f"cpu cores: ledger {cpu['ledger_workers']} {cpu['per_worker']}, postgres {cpu['postgres']}, "
            f"wrk {cpu['loadgen']}, other processes {others:.2f}, machine {cpu['machine_busy']}/{cpu['machine_cpus']}; "
            f"{figures['commits_per_s']:,.0f} commits/s, {figures['wal_flushes_per_s']:,.0f} WAL flushes/s; "
            f"{_cpu_ms_per_posting(figures):.3f} CPU ms per posting (ledger + postgres + wrk)")


def _cpu_ms_per_posting(figures: dict) -> float:
    cpu = figures["cpu_cores"]
    used = cpu["ledger_workers"] + cpu["postgres"] + cpu["loadgen"]
    return used / figures["postings_per_s"] * 1000 if figures["postings_per_s"] else float("nan")


def _report(figures: dict, seconds: float) -> str:
    lines = [f"beanpay-ledger bench: {WORKERS} gunicorn gthread workers x {THREADS} threads, wrk {CONNECTIONS} "
             f"connections ({BATCH_CONNECTIONS} for batches), {os.cpu_count()} CPUs, {seconds:g}s per phase"]
    for name in ("spread", "hot", "batch"):
        f = figures[name]
        lines.append(f"  {name:<12} {f['postings_per_s']:>10,.0f} postings/s  ({f['requests_per_s']:,.0f} req/s, "
                     f"p99 {f['p99_ms']} ms, {f['failed']} failed)  {_verdict(name, f['postings_per_s'])}")
        lines.append(f"               {_cpu(f)}")
        lines.append(f"               the {os.cpu_count()} CPUs to ourselves would carry about "
                     f"{os.cpu_count() / _cpu_ms_per_posting(f) * 1000:,.0f} postings/s at that CPU cost")
    paced = figures["paced_1000"]
    lines.append(f"  paced 1000/s p99 {paced['p99_ms']:>6} ms (p50 {paced['p50_ms']} ms, achieved "
                 f"{paced['requests_per_s']:,.0f} req/s, {paced['failed']} failed)  {_verdict('paced_1000', paced['p99_ms'])}")
    lines.append(f"               {_cpu(paced)}")
    rss = figures["worker_rss_mb"]
    lines.append(f"  worker RSS   {rss['workers']} MB  {_verdict('worker_rss_mb', rss['max'])}")
    lines.append(f"  balance = sum(records) violations: {figures['invariant_violations']}")
    for name, f in figures["pgbench"].items():
        lines.append(f"  {name:<16} {f['tps']:>10,.0f} tps (latency avg {f['latency_avg_ms']} ms, "
                     f"{PGBENCH_CLIENTS} clients)")
    return "\n".join(lines)
