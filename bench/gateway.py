"""depository-agent: bank notifications accepted per second at /gateway, beside pgbench on the same PostgreSQL.

Starts the agent under gunicorn (the recommended Procfile line) and its outbox relay on a fresh database
and RabbitMQ vhost (tests.support.infra), pre-creates pending RECHARGE records by SQL and pre-signs one
bank notification for each (bank key; cached between runs, since every run's database is fresh), then
posts them from wrk over keep-alive connections, each request a different record: every ``OK`` is a
verified notification whose record was settled and whose outbox row was committed.

Phases: as fast as possible (accepted/s from the database, p99 from wrk, the relay's publish rate and
the outbox backlog left), then paced at the target rate (p99 from each request's scheduled time, so
queueing counts), the gunicorn workers' RSS, and ``pgbench -N`` for the machine's own bound. Each phase
records the CPU used by the agent's workers, PostgreSQL and wrk (bench/probes.py).
``run()`` answers the rows ``{name, value, unit, target, ok}``; ``python -m bench.gateway`` prints them and
writes bench/results/gateway.{json,txt}.
"""
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import requests

from bench import wrk
from bench.ledger import _pgbench, _server_url, _worker_rss_mb
from bench.probes import Probe, process_cpu_s
from bench.user_center import Bank
from shared.devkeys import generate
from tests.support.infra import Infra
from tests.support.processes import Process, Worker, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CACHE = Path(tempfile.gettempdir()) / "bench-gateway"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
RELAYS = int(os.environ.get("BENCH_RELAYS", "1"))
TARGET_RATE = 800
PACED_CONNECTIONS = 64
MAX_RATE = 2500  # notifications signed per second of an as-fast-as-possible phase (its budget)
WARM_SECONDS = 3.0
TARGETS = {  # name: (unit, comparison, target)
    "accepted": ("notifications/s", ">=", TARGET_RATE),
    "relay": ("% of accepted", ">=", 95),  # the relay keeps up: publishes what is accepted, as it is accepted
    "paced_p99": ("ms", "<", 50),
    "worker_rss": ("MB", "<", 100),
}

SCRIPT = Path(__file__).with_name("gateway.lua")


def gunicorn_argv(port: int) -> list[str]:
    """The agent's command line under test: the recommended Procfile line with the bench's counts.
    ``--reuse-port`` gives each worker its own listening socket, so connections spread evenly."""
    return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--workers", str(WORKERS), "--worker-class", WORKER_CLASS, "--threads", str(THREADS), "--reuse-port",
            "--bind", f"127.0.0.1:{port}", "depository_agent.wsgi:app"]


def request_no(index: int) -> str:
    return f"REQ_{index:032X}"


def _sign_range(keys_dir: str, start: int, stop: int) -> list[str]:
    """URL-encoded successful-recharge notification queries for records ``start`` to ``stop``."""
    bank = Bank(keys_dir)
    return [urlencode(bank.recharge_success(request_no(index), "100.00")) for index in range(start, stop)]


def signed_notifications(keys_dir: str, count: int) -> Path:
    """A file of ``count`` signed notifications, one query string per line, for records 0..count-1.

    Kept in the cache folder under the bank key's fingerprint: a later run with the same keys reuses it.
    """
    key_path = os.path.join(keys_dir, "bank_private.pem")
    fingerprint = hashlib.sha256(Path(key_path).read_bytes()).hexdigest()[:16]
    path = CACHE / f"notifications-{fingerprint}-{count}.txt"
    if not path.exists():
        print(f"signing {count:,} notifications (cached for later runs in {CACHE})", flush=True)
        chunk = 2000
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            parts = pool.map(_sign_range, [keys_dir] * (count // chunk + 1),
                             range(0, count, chunk), [min(count, start + chunk) for start in range(0, count, chunk)])
            partial = path.with_suffix(".partial")
            partial.write_text("".join(line + "\n" for part in parts for line in part))
        partial.rename(path)
    return path


def create_pending_records(database_url: str, count: int) -> None:
    """``count`` pending RECHARGE records of 100.00, as POST /l/recharges leaves them."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "insert into depository_record (request_no, request_type, service_name, object_type, object_id,"
            " user_no, amount, request_data)"
            " select r, 'RECHARGE', 'RECHARGE', 'RECHARGE_RECORD', r, 'USR_' || upper(lpad(to_hex(n), 32, '0')), 10000,"
            "        jsonb_build_object('requestNo', r, 'amount', '100.00')"
            " from generate_series(0, %s - 1) n, lateral (select 'REQ_' || upper(lpad(to_hex(n), 32, '0')) r) x",
            (count,))
        conn.execute("vacuum analyze")


def _pids_named(command: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == command:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class Counts:
    """Settled records and published outbox rows, read around a phase."""

    def __init__(self, database_url: str):
        self.database_url = database_url

    def read(self) -> dict:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            settled, sent, unsent, lag = conn.execute(
                "select (select count(*) from depository_record where request_status <> 0),"
                " (select count(*) from outbox where sent_at is not null),"
                " (select count(*) from outbox where sent_at is null),"
                " (select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 from outbox"
                "  where sent_at is null)").fetchone()
        return {"at": time.monotonic(), "settled": settled, "sent": sent, "unsent": unsent, "lag_s": round(lag, 2)}


def _start(process: Process, url: str) -> None:
    process.start()
    for _ in range(300):
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if not process.alive():
            break
        time.sleep(0.1)
    process.stop()
    raise RuntimeError(f"the agent did not start:\n{process.log_tail()}")


class Bench:
    """One run: the agent and its relays on a fresh database, wrk phases over disjoint slices of records."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.slices = {"warm": int(WARM_SECONDS * MAX_RATE), "max": int(seconds * MAX_RATE),
                       "paced": int(seconds * TARGET_RATE * 1.2)}
        self.total = sum(self.slices.values())

    def _other_cpu_s(self) -> dict:
        """CPU seconds so far of the relays and of RabbitMQ, which bench/probes.py does not watch."""
        return {"relay": sum(process_cpu_s(relay.popen.pid) for relay in self.relays),
                "rabbitmq": sum(process_cpu_s(pid) for pid in _pids_named("beam.smp"))}

    def phase(self, name: str, offset: int, **load) -> dict:
        before, cpu_before = self.counts.read(), self._other_cpu_s()
        with Probe(self.agent.popen.pid, self.database_url) as probe:
            figures = wrk.run(self.url, "", SCRIPT, load.pop("seconds", self.seconds), threads=1,
                              file=self.notifications, offset=offset, count=self.slices[name], **load)
        after, cpu_after = self.counts.read(), self._other_cpu_s()
        elapsed = after["at"] - before["at"]
        accepted = after["settled"] - before["settled"]
        cpu = probe.figures["cpu_cores"]
        cpu.update({group: round((cpu_after[group] - cpu_before[group]) / elapsed, 2) for group in cpu_after})
        # CPU milliseconds each accepted notification cost, per process group: what bounds the rate
        per_notification = {group: round(cpu[key] * elapsed * 1000 / max(accepted, 1), 3) for group, key in
                            (("agent", "ledger_workers"), ("postgres", "postgres"), ("relay", "relay"),
                             ("rabbitmq", "rabbitmq"), ("wrk", "loadgen"))}
        figures.update(probe.figures, accepted_per_s=round(accepted / elapsed, 1),
                       relay_per_s=round((after["sent"] - before["sent"]) / elapsed, 1),
                       outbox_unsent_after=after["unsent"], outbox_lag_after_s=after["lag_s"],
                       cpu_ms_per_notification=per_notification)
        print(f"  {name}: {figures}", flush=True)
        return figures

    def run(self) -> dict:
        wrk.ensure_wrk()
        CACHE.mkdir(exist_ok=True)
        keys_dir = str(CACHE / "keys")
        generate(keys_dir)
        infra = Infra(pg_server_url=_server_url(),
                      amqp_server_url=os.environ.get("TEST_AMQP_SERVER_URL", "amqp://guest:guest@127.0.0.1:5672"),
                      redis_url=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), keys_dir=keys_dir,
                      internal_token="bench")
        infra.setup()
        self.notifications = signed_notifications(keys_dir, self.total)
        processes = []
        try:
            self.database_url = infra.migrated_database("depository_agent")
            self.counts = Counts(self.database_url)
            create_pending_records(self.database_url, self.total)
            env = infra.service_env("depository_agent", LOG_LEVEL="WARNING")
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            log_dir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
            self.agent = Process("depository-agent", gunicorn_argv(port), env, log_dir)
            processes.append(self.agent)
            _start(self.agent, self.url)
            self.relays = [Worker("depository_agent.workers.outbox_relay", env, log_dir, name=f"relay-{n}").start()
                           for n in range(RELAYS)]
            processes += self.relays
            print(f"depository-agent under gunicorn ({WORKERS} gthread workers x {THREADS} threads) at {self.url},"
                  f" {RELAYS} relay(s); wrk with {CONNECTIONS} connections; {self.seconds:g}s per phase", flush=True)
            self.phase("warm", 0, seconds=WARM_SECONDS, connections=CONNECTIONS)
            figures = {"max": self.phase("max", self.slices["warm"], connections=CONNECTIONS)}
            figures["paced"] = self.phase("paced", self.slices["warm"] + self.slices["max"], rate=TARGET_RATE,
                                          connections=PACED_CONNECTIONS)
            rss = _worker_rss_mb(self.agent.popen.pid)
            figures["worker_rss_mb"] = {"workers": rss, "max": max(rss)}
        finally:
            for process in reversed(processes):
                process.stop()
            infra.teardown()
        figures["pgbench"] = _pgbench(infra.pg_server_url, self.seconds)
        return figures


def rows(figures: dict) -> list[dict]:
    """The figures as ``{name, value, unit, target, ok}`` rows."""

    def row(name: str, key: str, value) -> dict:
        unit, comparison, target = TARGETS[key]
        ok = value >= target if comparison == ">=" else value < target
        return {"name": name, "value": value, "unit": unit, "target": f"{comparison} {target}", "ok": ok}

    fastest, paced = figures["max"], figures["paced"]
    table = [row("gateway notifications accepted", "accepted", fastest["accepted_per_s"]),
             row("gateway outbox relay published", "relay",
                 round(100 * fastest["relay_per_s"] / max(fastest["accepted_per_s"], 1), 1)),
             row(f"gateway paced {TARGET_RATE}/s p99", "paced_p99", paced["p99_ms"]),
             row("gateway worker RSS (max)", "worker_rss", figures["worker_rss_mb"]["max"])]
    cost = round(sum(fastest["cpu_ms_per_notification"].values()), 2)
    cpu = fastest["cpu_cores"]
    stack = cpu["ledger_workers"] + cpu["postgres"] + cpu["relay"] + cpu["rabbitmq"] + cpu["loadgen"]
    informative = [("gateway outbox relay publish rate", fastest["relay_per_s"], "messages/s"),
                   ("gateway CPU per notification, all processes", cost, "ms"),
                   ("gateway rate if the bench had every core", round(cpu["machine_cpus"] * 1000 / cost),
                    "notifications/s"),
                   ("gateway share of the busy CPU used by the bench", round(100 * stack / cpu["machine_busy"]), "%"),
                   ("gateway p99 as fast as possible", fastest["p99_ms"], "ms"),
                   ("gateway outbox backlog after the fast phase", fastest["outbox_unsent_after"], "rows"),
                   (f"gateway paced {TARGET_RATE}/s accepted", paced["accepted_per_s"], "notifications/s")]
    informative += [(f"{name} (same run)", round(result["tps"]), "tps") for name, result in figures["pgbench"].items()]
    table += [{"name": name, "value": value, "unit": unit, "target": None, "ok": True}
              for name, value, unit in informative]
    return table


def _report(figures: dict, table: list[dict]) -> str:
    lines = [f"depository-agent gateway bench: {WORKERS} gunicorn gthread workers x {THREADS} threads, {RELAYS} relay,"
             f" wrk {CONNECTIONS} connections, {os.cpu_count()} CPUs"]
    for entry in table:
        verdict = "" if entry["target"] is None else f"  {'ok  ' if entry['ok'] else 'MISS'} (target {entry['target']})"
        lines.append(f"  {entry['name']:<46} {entry['value']:>10} {entry['unit']}{verdict}")
    for name in ("max", "paced"):
        cpu = figures[name]["cpu_cores"]
        lines.append(f"  {name}: cpu cores agent {cpu['ledger_workers']} {cpu['per_worker']},"
                     f" postgres {cpu['postgres']},"
                     f" relay {cpu['relay']}, rabbitmq {cpu['rabbitmq']}, wrk {cpu['loadgen']},"
                     f" machine {cpu['machine_busy']}/{cpu['machine_cpus']};"
                     f" {figures[name]['commits_per_s']:,.0f} commits/s, {figures[name]['wal_flushes_per_s']:,.0f}"
                     f" WAL flushes/s; {figures[name]['failed']} failed")
        lines.append(f"      cpu ms per accepted notification: {figures[name]['cpu_ms_per_notification']}")
    return "\n".join(lines)


def run(seconds: float = 10.0) -> list[dict]:
    """Run the gateway bench; save the figures in bench/results/gateway.{json,txt}; answer the rows."""
    figures = Bench(seconds).run()
    table = rows(figures)
    report = _report(figures, table)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = " ".join(gunicorn_argv(0)[1:]).replace(str(ROOT) + "/", "")
    (RESULTS / "gateway.json").write_text(json.dumps({
        "when": time.strftime("%Y%m%dT%H%M%S"), "seconds": seconds, "server": command, "relays": RELAYS,
        "connections": CONNECTIONS, "cpus": os.cpu_count(), "rows": table, **figures}, indent=2))
    (RESULTS / "gateway.txt").write_text(report + "\n")
    return table


if __name__ == "__main__":
    sys.exit(sum(not entry["ok"] for entry in run(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)))
