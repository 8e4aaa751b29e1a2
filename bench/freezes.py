"""freezes: USER_AUTO_PRE_TRANSACTION (TENDER) calls per second through the agent and the bank sandbox.

Starts the bank sandbox and depository-agent (+ its outbox relay) under gunicorn on fresh databases
(``tests.support.infra.Infra``), opens ``BENCH_FREEZE_USERS`` funders at the bank (register, recharge)
and ``BENCH_FREEZE_PROJECTS`` projects, then drives ``POST /l/pre-transactions`` with wrk over
keep-alive connections (after a CHECKPOINT: the benchmarks before it leave PostgreSQL dirty buffers whose
writes would otherwise land in the measured seconds), every request a new requestNo freezing 0.01 of a
funder's balance. Each call:
validation, the agent's record, its RSA signature, the bank's ``POST /service`` (verification, its
books, its signed answer), the answer verified and settled with its outbox row; the relay publishes
every result. Reports freezes/s answered 200 with status 1, latency, and CPU per call by process
group. Results: bench/results/freezes.{json,txt}.
"""
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import wrk
from bench.probes import checkpoint
from bench.user_center import CpuMeter, _gunicorn, fresh_infra, row, save, scalar, wait
from shared.contract import TRANSACTION_SERVICES
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE, QUORUM, connect
from tests.support.infra import Infra
from tests.support.processes import Worker, free_port

USERS = int(os.environ.get("BENCH_FREEZE_USERS", "50"))
CONNECTIONS = int(os.environ.get("BENCH_FREEZE_CONNECTIONS", "32"))
# Projects raising at once: the bank serializes the tenders of one project on its row.
PROJECTS = int(os.environ.get("BENCH_FREEZE_PROJECTS", "8"))
AGENT_WORKERS = int(os.environ.get("BENCH_AGENT_WORKERS", "2"))
AGENT_THREADS = int(os.environ.get("BENCH_AGENT_THREADS", "8"))
BANK_WORKERS = int(os.environ.get("BENCH_BANK_WORKERS", "2"))
BANK_THREADS = int(os.environ.get("BENCH_BANK_THREADS", "8"))
TARGET_RATE = 300
RESULTS_QUEUE = "bench.transaction-results"
PASSWORD = "246810"

# wrk script: POST /l/pre-transactions, a fresh requestNo each time (thread id, sequence, random), the
# funders in turn. The shared library counts statuses; the body is checked only by its status here (the
# bench then counts the settled records in the agent's database).
FREEZE_LUA = """
dofile(os.getenv("BENCH_LIB"))
local users = {}
for user in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do users[#users + 1] = user end
local projects = {}
for project in string.gmatch(os.getenv("BENCH_PROJECTS"), "[^,]+") do projects[#projects + 1] = project end
local token = os.getenv("BENCH_TOKEN")
local sequence = 0
math.randomseed(os.time() + (id or 0) * 7919)
function request()
    sequence = sequence + 1
    local request_no = string.format("REQ_%04X%08X%04X%04X%04X%04X%04X", id, sequence, math.random(0, 65535),
                                     math.random(0, 65535), math.random(0, 65535), math.random(0, 65535),
                                     math.random(0, 65535))
    local body = string.format('{"requestNo":"%s","userNo":"%s","amount":"0.01","bizType":"TENDER",'
                               .. '"projectNo":"%s"}', request_no, users[(sequence * 7 + id * 13) % #users + 1],
                               projects[(sequence * 3 + id) % #projects + 1])
    return wrk.format("POST", "/l/pre-transactions",
                      {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


@dataclass
class Stack:
    """The bank sandbox, the agent and its outbox relay as real processes on fresh databases."""

    infra: Infra
    work_dir: Path
    web: dict = field(default_factory=dict)
    workers: dict = field(default_factory=dict)

    @classmethod
    def start(cls, agent_settings: dict | None = None) -> "Stack":
        infra, work_dir = fresh_infra("bench-freezes-")
        stack = cls(infra, work_dir)
        try:
            ports = {name: free_port() for name in ("bank", "agent")}
            bank_url = f"http://127.0.0.1:{ports['bank']}"
            stack.web["bank"] = _gunicorn("bank_sandbox", infra.service_env("bank_sandbox", SANDBOX_SCRYPT_N=1024),
                                          work_dir, BANK_WORKERS, BANK_THREADS, ports["bank"])
            agent_env = infra.service_env("depository_agent", BANK_SANDBOX_URL=bank_url, **(agent_settings or {}))
            stack.web["agent"] = _gunicorn("depository_agent", agent_env, work_dir, AGENT_WORKERS, AGENT_THREADS,
                                           ports["agent"])
            stack._bind_results_queue()
            stack.workers["relay"] = Worker("depository_agent.workers.outbox_relay", agent_env, work_dir,
                                            name="relay").start()
        except Exception:
            stack.stop()
            raise
        return stack

    def _bind_results_queue(self) -> None:
        """A queue for the transaction services' results, as lending binds one: the relay's publishes are
        routed (an unroutable result would stay pending in the outbox)."""
        connection = connect(self.infra.amqp_url, "bench-freezes")
        try:
            channel = connection.channel()
            channel.exchange_declare(GATEWAY_NOTIFY_EXCHANGE, exchange_type="topic", durable=True)
            channel.queue_declare(RESULTS_QUEUE, durable=True, arguments=QUORUM)
            for service_name in TRANSACTION_SERVICES:
                channel.queue_bind(RESULTS_QUEUE, GATEWAY_NOTIFY_EXCHANGE, routing_key=service_name)
        finally:
            connection.close()

    def url(self, name: str) -> str:
        return self.web[name].url

    def database(self, package: str) -> str:
        return self.infra.database_url(package)

    def bank_client(self):
        """The platform's client of the sandbox (opens and funds users through its confirmation)."""
        from bank_sandbox.config import load

        from tests.bank_sandbox.bank_client import BankClient
        from tests.bank_sandbox.conftest import Platform

        return BankClient(self.url("bank"), Platform(load(self.infra.config("bank_sandbox"))), PASSWORD)

    def stop(self) -> None:
        for process in [*self.workers.values(), *self.web.values()]:
            process.stop()
        self.infra.teardown()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def prepare(stack: Stack, users: int, projects: int = PROJECTS) -> tuple[list[str], list[str]]:
    """``users`` funders with 1000.00 each, and ``projects`` projects of 1,000,000.00 created through the agent."""
    bank = stack.bank_client()
    with ThreadPoolExecutor(4) as pool:
        funders = list(pool.map(lambda _: bank.open_user("1000.00"), range(users)))
    borrower = bank.open_user()
    project_nos = []
    for _ in range(projects):
        body = {"requestNo": bank.platform.request_no(), "projectNo": bank.platform.project_no(), "userNo": borrower,
                "projectAmount": "1000000.00", "projectName": "bench", "projectPeriod": 12, "annualRate": "0.18",
                "repaymentWay": "FIXED_REPAYMENT"}
        answer = requests.post(f"{stack.url('agent')}/l/projects", json=body, timeout=30,
                               headers={"Authorization": f"Bearer {stack.infra.internal_token}"})
        assert answer.status_code == 200 and answer.json()["result"]["status"] == 1, answer.text
        project_nos.append(body["projectNo"])
    return funders, project_nos


def freeze(stack: Stack, funders: list[str], project_nos: list[str], seconds: float, connections: int) -> dict:
    """wrk POST /l/pre-transactions for ``seconds``; the figures."""
    script = stack.work_dir / "freeze.lua"
    script.write_text(FREEZE_LUA)
    return wrk.run(stack.url("agent"), stack.infra.internal_token, script, seconds, connections, threads=2,
                   users=",".join(funders), projects=",".join(project_nos))


def settled(stack: Stack) -> int:
    return scalar(stack.database("depository_agent"),
                  "select count(*) from depository_record where request_type = 'USER_AUTO_PRE_TRANSACTION'"
                  " and request_status = 1")


def run(seconds: float = 10.0, users: int = USERS, connections: int = CONNECTIONS) -> list[dict]:
    """Measure freezes per second; print the figures and return the result rows."""
    wrk.ensure_wrk()
    stack = Stack.start()
    try:
        started = time.monotonic()
        funders, project_nos = prepare(stack, users)
        print(f"freezes bench: {users} funders opened in {time.monotonic() - started:.1f}s; agent {AGENT_WORKERS} "
              f"gthread workers x {AGENT_THREADS} threads, bank {BANK_WORKERS} x {BANK_THREADS}, wrk "
              f"{connections} connections, {seconds:g}s", flush=True)
        checkpoint(stack.database("bank_sandbox"))
        freeze(stack, funders, project_nos, min(3.0, seconds), connections)  # warm-up
        before = settled(stack)
        with CpuMeter(stack) as meter:
            figures = freeze(stack, funders, project_nos, seconds, connections)
        answered = figures["statuses"].get(200, 0)
        wait(lambda: scalar(stack.database("depository_agent"), "select count(*) from outbox where sent_at is null")
             == 0, 60, "every result published")
        frozen = settled(stack) - before
        rate = round(answered / meter.elapsed, 1)
        cpu = meter.per_item_ms(answered)
        print(f"  POST /l/pre-transactions: {rate} freezes/s answered 200 ({frozen} settled with status 1, "
              f"{figures['failed']} failed, statuses {figures['statuses']}), p50 {figures['p50_ms']} ms, "
              f"p99 {figures['p99_ms']} ms", flush=True)
        print(f"  {meter.describe(answered)}")
        print(f"  at that CPU cost the {os.cpu_count()} CPUs to ourselves would carry about "
              f"{int(os.cpu_count() * 1000 / cpu['total'])} freezes/s")
        rows = [row("freezes.per_s", rate, "freezes/s", f">= {TARGET_RATE}", rate >= TARGET_RATE),
                row("freezes.p99_ms", figures["p99_ms"], "ms", None, True),
                row("freezes.cpu_ms_per_call", cpu["total"], "ms", None, True),
                row("freezes.per_s_at_that_cpu_on_all_cpus", int(os.cpu_count() * 1000 / cpu["total"]), "freezes/s",
                    None, True),
                row("freezes.cpu_ms_per_call.agent", cpu.get("agent", 0), "ms", None, True),
                row("freezes.cpu_ms_per_call.bank", cpu.get("bank", 0), "ms", None, True),
                row("freezes.cpu_ms_per_call.postgres", cpu.get("postgres", 0), "ms", None, True)]
        save("freezes", rows, {"wrk": figures, "settled": frozen, "cpu_ms_per_call": cpu,
                               "machine_busy_cores": round(meter.machine_cores, 2)})
        return rows
    finally:
        stack.stop()
