"""user-center: gateway request creation per second, through the real agent (record, RSA signature).

Starts beanpay-ledger, depository-agent (+ outbox relay), user-center under gunicorn and its
GatewayNotifyConsumer on fresh databases (``tests.support.infra.Infra``), opens depository accounts
for ``BENCH_USERS`` users (register, log in, PERSONAL_REGISTER, the bank's signed notification to the
agent's /gateway), then drives ``POST /my/recharge-records`` with wrk over keep-alive connections
(each request: token check, validation, the pending record, the agent's signed GatewayRequest).
Reports requests/s, latency, CPU per request by process group, and each user-center worker's RSS.
:class:`Platform` is shared with ``bench/e2e.py``. Results: bench/results/user_center.{json,txt}.
"""
import base64
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from bench import wrk
from bench.ledger import _worker_rss_mb
from bench.probes import _machine_busy_s, children_of, process_cpu_s
from shared.devkeys import generate
from shared.signing import encode_wanxin, load_key
from tests.support.infra import Infra
from tests.support.processes import ROOT, WebService, Worker, free_port

RESULTS = ROOT / "bench" / "results"
PG_SERVER_URL = os.environ.get("TEST_PG_SERVER_URL", "postgresql://postgres@127.0.0.1:5432")
AMQP_SERVER_URL = os.environ.get("TEST_AMQP_SERVER_URL", "amqp://guest:guest@127.0.0.1:5672")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
USERS = int(os.environ.get("BENCH_USERS", "100"))
CENTER_WORKERS = int(os.environ.get("BENCH_UC_WORKERS", "2"))
CENTER_THREADS = int(os.environ.get("BENCH_UC_THREADS", "8"))
AGENT_WORKERS = int(os.environ.get("BENCH_AGENT_WORKERS", "2"))
AGENT_THREADS = int(os.environ.get("BENCH_AGENT_THREADS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_UC_CONNECTIONS", "32"))
CALLBACK = "http://127.0.0.1:8001/#/callback"
TARGET_RATE = 400
TARGET_RSS_MB = 100  # every worker process, as for every service

# wrk script: POST /my/recharge-records as the bench's users in turn. It reuses bench/paced.lua's
# status counting and its BENCH output (done); BENCH_LIMIT stops each thread after its share.
CREATE_LUA = """
dofile(os.getenv("BENCH_LIB"))
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS"), "[^,]+") do tokens[#tokens + 1] = token end
local limit = math.ceil(tonumber(os.getenv("BENCH_LIMIT") or "0") / tonumber(os.getenv("BENCH_THREADS")))
-- (a stopped thread sends no more; the run itself ends when bench/user_center.py interrupts wrk)
local body = '{"amount":"1.00","callbackUrl":"%s"}'
local answered, sequence = 0, 0
function request()
    sequence = sequence + 1
    local token = tokens[(sequence * 7 + id * 13) %% #tokens + 1]
    return wrk.format("POST", "/my/recharge-records",
                      {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
local count_status = response
function response(status, response_headers, response_body)
    count_status(status, response_headers, response_body)
    answered = answered + 1
    if limit > 0 and answered >= limit then wrk.thread:stop() end
end
""" % CALLBACK


class Bank:
    """Signs wanxin notifications with the bank key (shared.signing)."""

    def __init__(self, keys_dir: str, platform_no: str = "WANXINP2P"):
        self.key = load_key(str(Path(keys_dir) / "bank_private.pem"))
        self.platform_no = platform_no

    def notification(self, service_name: str, payload: dict) -> dict:
        """``{serviceName, platformNo, reqData, signature}`` as the bank sends it to /gateway."""
        req_data, signature = encode_wanxin(payload, self.key)
        return {"serviceName": service_name, "platformNo": self.platform_no, "reqData": req_data,
                "signature": signature}

    def recharge_success(self, request_no: str, amount: str) -> dict:
        return self.notification("RECHARGE", {"requestNo": request_no, "respCode": "00000", "respMsg": "success",
                                              "status": 1, "transactionStatus": "SUCCESS", "amount": amount})


def request_no_of(gateway: dict) -> str:
    return json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]


def fresh_infra(prefix: str) -> tuple[Infra, Path]:
    """This run's own databases, vhost and Redis prefix on the machine's servers, with fresh development keys
    in a new work directory: ``(infra, work_dir)``."""
    work_dir = Path(tempfile.mkdtemp(prefix=prefix))
    keys = work_dir / "keys"
    keys.mkdir()
    generate(str(keys))
    infra = Infra(pg_server_url=PG_SERVER_URL, amqp_server_url=AMQP_SERVER_URL, redis_url=REDIS_URL,
                  keys_dir=str(keys), internal_token=(keys / "internal_token").read_text().strip())
    infra.setup()
    return infra, work_dir


@dataclass
class Platform:
    """ledger, agent + outbox relay, user-center + consumer(s) as real processes on fresh databases."""

    infra: Infra
    work_dir: Path
    web: dict = field(default_factory=dict)
    workers: dict = field(default_factory=dict)
    users: list = field(default_factory=list)  # (user_no, token)

    @classmethod
    def start(cls, center_settings: dict | None = None, consumer: bool = True) -> "Platform":
        platform = cls(*fresh_infra("bench-uc-"))
        try:
            platform._start_processes(center_settings or {}, consumer)
        except Exception:
            platform.stop()
            raise
        return platform

    def _start_processes(self, center_settings: dict, consumer: bool) -> None:
        ports = {name: free_port() for name in ("ledger", "agent", "center")}
        wiring = {"LEDGER_URL": f"http://127.0.0.1:{ports['ledger']}",
                  "DEPOSITORY_AGENT_URL": f"http://127.0.0.1:{ports['agent']}",
                  "USER_CENTER_URL": f"http://127.0.0.1:{ports['center']}"}
        self.env = {"beanpay_ledger": self.infra.service_env("beanpay_ledger", **wiring),
                    "depository_agent": self.infra.service_env("depository_agent", **wiring),
                    "user_center": self.infra.service_env("user_center", **wiring, **center_settings)}
        self.web["ledger"] = _gunicorn("beanpay_ledger", self.env["beanpay_ledger"], self.work_dir, 2, 8,
                                       ports["ledger"])
        self.web["agent"] = _gunicorn("depository_agent", self.env["depository_agent"], self.work_dir,
                                      AGENT_WORKERS, AGENT_THREADS, ports["agent"])
        self.web["center"] = _gunicorn("user_center", self.env["user_center"], self.work_dir, CENTER_WORKERS,
                                       CENTER_THREADS, ports["center"])
        self.workers["relay"] = Worker("depository_agent.workers.outbox_relay", self.env["depository_agent"],
                                       self.work_dir, name="relay").start()
        if consumer:
            self.start_consumer()

    def start_consumer(self) -> Worker:
        worker = Worker("user_center.workers.gateway_notify", self.env["user_center"], self.work_dir,
                        name="consumer").start()
        self.workers["consumer"] = worker
        return worker

    def url(self, name: str) -> str:
        return self.web[name].url

    def database(self, package: str) -> str:
        return self.infra.database_url(package)

    def open_accounts(self, count: int, bank: Bank) -> None:
        """Register ``count`` users, log them in and open their depository accounts (the bank's
        PERSONAL_REGISTER success goes through the agent and the consumer)."""
        center = self.url("center")

        def one(number: int) -> tuple[str, str]:
            session = requests.Session()
            mobile, password = f"139{number:08d}", "bench-password-1"
            user_no = session.post(f"{center}/consumers", json={"mobile": mobile, "password": password},
                                   timeout=30).json()["result"]["userNo"]
            token = session.post(f"{center}/tokens", json={"mobile": mobile, "password": password},
                                 timeout=30).json()["result"]["access_token"]
            gateway = session.post(f"{center}/my/consumers", headers={"Authorization": f"Bearer {token}"}, json={
                "fullname": "Bench User", "idNumber": "11010519491231002X", "bankCode": "ICBC",
                "cardNumber": "6222020200112341234", "mobile": mobile, "role": "I", "callbackUrl": CALLBACK},
                timeout=30).json()["result"]
            answer = session.post(f"{self.url('agent')}/gateway", data=bank.notification("PERSONAL_REGISTER", {
                "requestNo": request_no_of(gateway), "respCode": "00000", "respMsg": "success", "status": 1,
                "bankCode": "ICBC", "bankName": "Industrial and Commercial Bank of China"}), timeout=30)
            assert answer.text == "OK", answer.text
            return user_no, token

        with ThreadPoolExecutor(8) as pool:
            self.users = list(pool.map(one, range(count)))
        wait(lambda: scalar(self.database("user_center"),
                            "select count(*) from consumer where depository_status = 'OPENED'") == count,
             120, "accounts opened")

    def stop(self) -> None:
        for process in [*self.workers.values(), *self.web.values()]:
            process.stop()
        self.infra.teardown()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _gunicorn(package: str, env: dict, log_dir: Path, workers: int, threads: int, port: int) -> WebService:
    """``package`` under gunicorn with gthread workers, one listening socket each (--reuse-port)."""
    service = WebService(package, env, log_dir, workers=workers, port=port)
    service.argv[-1:-1] = ["--worker-class", "gthread", "--threads", str(threads), "--reuse-port"]
    return service.start(timeout=60)


def scalar(database_url: str, query: str, *params):
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchone()[0]


def wait(check, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(every)


class CpuMeter:
    """CPU seconds used over a phase by the platform's process groups, PostgreSQL (backends of the
    run's databases plus the WAL writer, checkpointer and background writer) and wrk; ``platform`` is
    any stack of this module's shape (``web``, ``workers``, ``infra``: bench/freezes.py's too)."""

    def __init__(self, platform: Platform):
        self.platform = platform

    def _pids(self) -> dict[str, list[int]]:
        groups = {name: children_of(service.popen.pid) for name, service in self.platform.web.items()}
        groups.update({name: [worker.popen.pid] for name, worker in self.platform.workers.items() if worker.alive()})
        prefix = f"t_{self.platform.infra.run_id}_%"
        with psycopg.connect(f"{self.platform.infra.pg_server_url.rstrip('/')}/postgres", autocommit=True) as conn:
            groups["postgres"] = [row[0] for row in conn.execute(
                "select pid from pg_stat_activity where datname like %s"
                " or backend_type in ('walwriter', 'checkpointer', 'background writer')", (prefix,))]
        return groups

    def _snapshot(self) -> dict:
        times = os.times()
        return {"at": time.monotonic(), "machine": _machine_busy_s()[0],
                "wrk": times.children_user + times.children_system,
                "groups": {name: {pid: process_cpu_s(pid) for pid in pids} for name, pids in self._pids().items()}}

    def __enter__(self) -> "CpuMeter":
        self.before = self._snapshot()
        return self

    def __exit__(self, *exc) -> None:
        after, before = self._snapshot(), self.before
        self.elapsed = after["at"] - before["at"]
        self.seconds = {name: sum(cpu - before["groups"].get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
                        for name, pids in after["groups"].items()}
        self.seconds["wrk"] = after["wrk"] - before["wrk"]
        self.machine_cores = (after["machine"] - before["machine"]) / self.elapsed

    def per_item_ms(self, items: int) -> dict:
        """CPU milliseconds per item by group, and their total."""
        figures = {name: round(seconds * 1000 / max(items, 1), 3) for name, seconds in self.seconds.items()}
        figures["total"] = round(sum(self.seconds.values()) * 1000 / max(items, 1), 3)
        return figures

    def describe(self, items: int) -> str:
        per_item = self.per_item_ms(items)
        groups = ", ".join(f"{name} {value}" for name, value in per_item.items() if name != "total")
        return (f"CPU ms per item: {groups}; total {per_item['total']} (machine busy "
                f"{self.machine_cores:.2f}/{os.cpu_count()} cores, other processes included)")


def wrk_until(done, url: str, script: Path, connections: int, timeout: float = 600, **script_env) -> dict:
    """``wrk.run`` until ``done()`` holds (then wrk is interrupted: it stops and reports as at the end of
    its duration, which a script's ``wrk.thread:stop()`` does not shorten)."""
    figures: dict = {}
    runner = threading.Thread(target=lambda: figures.update(wrk.run(
        url, "", script, timeout, connections, threads=2, **script_env)))
    runner.start()
    while runner.is_alive():
        if done():
            for pid in children_of(os.getpid()):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "wrk":
                    os.kill(pid, signal.SIGINT)
            runner.join()
        runner.join(0.2)
    return figures


def create_recharges(platform: Platform, seconds: float = 0, count: int = 0,
                     connections: int = CONNECTIONS) -> dict:
    """wrk POST /my/recharge-records for ``seconds``, or until ``count`` more records are pending; the figures."""
    script = platform.work_dir / "create.lua"
    script.write_text(CREATE_LUA)
    tokens = ",".join(token for _, token in platform.users)
    if seconds:
        return wrk.run(platform.url("center"), "", script, seconds, connections, threads=2, tokens=tokens)
    query = "select count(*) from recharge_record where callback_status = 0"
    goal = scalar(platform.database("user_center"), query) + count
    return wrk_until(lambda: scalar(platform.database("user_center"), query) >= goal, platform.url("center"),
                     script, connections, tokens=tokens, limit=count)


def row(name: str, value, unit: str, target, ok: bool) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}


def run(seconds: float = 10.0) -> list[dict]:
    """Measure gateway request creation; print the figures and return the result rows."""
    wrk.ensure_wrk()
    platform = Platform.start()
    try:
        bank = Bank(platform.infra.keys_dir)
        started = time.monotonic()
        platform.open_accounts(USERS, bank)
        print(f"user-center bench: {USERS} accounts opened in {time.monotonic() - started:.1f}s; user-center "
              f"{CENTER_WORKERS} gthread workers x {CENTER_THREADS} threads, agent {AGENT_WORKERS} x "
              f"{AGENT_THREADS}, wrk {CONNECTIONS} connections, {seconds:g}s", flush=True)
        create_recharges(platform, min(3.0, seconds))  # warm-up: connections, caches, JIT of the Lua
        with CpuMeter(platform) as meter:
            figures = create_recharges(platform, seconds)
        answered = figures["statuses"].get(200, 0)
        rate = round(answered / meter.elapsed, 1)
        rss = _worker_rss_mb(platform.web["center"].popen.pid)
        cpu = meter.per_item_ms(answered)
        print(f"  POST /my/recharge-records: {rate} requests/s answered 200 ({figures['failed']} failed, "
              f"statuses {figures['statuses']}), p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms", flush=True)
        print(f"  {meter.describe(answered)}")
        print(f"  at that CPU cost the 2 CPUs to ourselves would carry about "
              f"{int(os.cpu_count() * 1000 / cpu['total'])} requests/s")
        print(f"  user-center worker RSS: {rss} MB")
        rows = [row("user_center.recharge_requests_per_s", rate, "requests/s", f">= {TARGET_RATE}",
                    rate >= TARGET_RATE),
                row("user_center.recharge_p99_ms", figures["p99_ms"], "ms", None, True),
                row("user_center.cpu_ms_per_request", cpu["total"], "ms", None, True),
                row("user_center.worker_rss_mb", max(rss), "MB", f"< {TARGET_RSS_MB}", max(rss) < TARGET_RSS_MB)]
        save("user_center", rows, {"wrk": figures, "cpu_ms_per_request": cpu, "rss_mb": rss,
                                    "machine_busy_cores": round(meter.machine_cores, 2)})
        return rows
    finally:
        platform.stop()


def save(name: str, rows: list[dict], details: dict) -> None:
    """Write bench/results/<name>.json (rows and details) and .txt (the rows)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"{name}.json").write_text(json.dumps({"when": stamp, "cpus": os.cpu_count(), "rows": rows,
                                                      **details}, indent=2, default=str))
    (RESULTS / f"{name}.txt").write_text("\n".join(
        f"{'ok  ' if r['ok'] else 'MISS'} {r['name']}: {r['value']} {r['unit']}"
        + (f" (target {r['target']})" if r["target"] else "") for r in rows) + "\n")


def main(seconds: float = 10.0) -> int:
    """Entry for ``python -m bench``: the number of missed targets."""
    return sum(not r["ok"] for r in run(seconds))


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
