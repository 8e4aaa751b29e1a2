"""lending: partner orders pushed per second, and the time from push to disbursement of a batch.

1. push: lending under gunicorn (2 gthread workers x 8 threads, as deployed) on a fresh database;
   ``BENCH_ORDERS`` (default 6,000) ``POST /rongshu/order/push`` envelopes, each for another person and
   orderNo, signed beforehand with the partner's secret (MD5, fresh timestamps), posted once each by
   wrk over ``BENCH_LENDING_CONNECTIONS`` connections. Every one must be answered 200 and stored at 0.
   Reports orders/s, latency and CPU per order by process group.
2. batch: the whole platform (tests/support/stack.py: the seven services and lending's workers) with a
   funded funder; ``BENCH_BATCH`` (200) orders pushed at once through the partner API, each borrower's
   account opened through the one-time link and the bank sandbox once the order is approved, the card
   bound and the loan confirmed; measures the time from the first push until every borrow is disbursed
   (30) and checks that bank and ledger agree for the funder and every borrower.
Results: bench/results/lending.{json,txt}.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench import wrk
from bench.user_center import AMQP_SERVER_URL, PG_SERVER_URL, REDIS_URL, CpuMeter, row, save, scalar, wrk_until
from shared.devkeys import generate
from shared.partner_envelope import seal
from tests.support.infra import Infra
from tests.support.processes import WebService, free_port

from lending.credit_engine import check_character

ORDERS = int(os.environ.get("BENCH_ORDERS", "6000"))
CONNECTIONS = int(os.environ.get("BENCH_LENDING_CONNECTIONS", "32"))
LENDING_WORKERS = int(os.environ.get("BENCH_LENDING_WORKERS", "2"))
LENDING_THREADS = int(os.environ.get("BENCH_LENDING_THREADS", "8"))
TARGET_PUSH_RATE = 300
APP_ID = "rongshu"

# wrk script: POST each line of BENCH_FILE (a signed envelope) to /rongshu/order/push once, spread over
# the threads; bench/paced.lua counts the statuses and prints the figures.
PUSH_LUA = """
dofile(os.getenv("BENCH_LIB"))
local lines = {}
for line in io.lines(os.getenv("BENCH_FILE")) do lines[#lines + 1] = line end
local threads = tonumber(os.getenv("BENCH_THREADS"))
local json = {["Content-Type"] = "application/json"}
local sent, answered, quota = 0, 0, 0
function init(args)
    quota = math.floor((#lines - id - 1) / threads) + 1
end
function request()
    local index = id + 1 + sent * threads
    sent = sent + 1
    if index > #lines then index = id + 1 end -- this thread's share is sent: repeat its first (the same answer)
    return wrk.format("POST", "/rongshu/order/push", json, lines[index])
end
local count_status = response
function response(status, response_headers, body)
    count_status(status, response_headers, body)
    answered = answered + 1
    if answered >= quota then wrk.thread:stop() end
end
"""


def id_number(number: int) -> str:
    """The valid ID number (GB 11643 check digit) of person ``number`` (< 6,720,000), born 1981-2000."""
    day, sequence = number % 6720, number // 6720
    year, month, day = 1981 + day // 336, 1 + day // 28 % 12, 1 + day % 28
    first17 = f"110105{year}{month:02d}{day:02d}{sequence:03d}"
    return first17 + check_character(first17)


def person(number: int) -> dict:
    """An order/push bizData of person ``number`` (own mobile and ID number) under a new orderNo."""
    return {"orderNo": "B" + uuid.uuid4().hex[:24].upper(), "loanAmount": 1_000_000, "loanTerm": 6, "name": "压测用户",
            "mobile": f"13{number:09d}", "idNumber": id_number(number)}


def envelopes(secret: str, count: int, first: int = 0) -> list[str]:
    """``count`` signed order/push bodies (JSON text) for the people numbered from ``first`` (one person has
    one unfinished order at a time), stamped now: good for the 300 s window."""
    now_ms = int(time.time() * 1000)
    return [json.dumps(seal(person(number), APP_ID, secret, now_ms)) for number in range(first, first + count)]


@dataclass
class Lending:
    """lending alone under gunicorn on fresh databases: what order/push needs (it calls no other service)."""

    infra: Infra
    work_dir: Path
    web: dict = field(default_factory=dict)
    workers: dict = field(default_factory=dict)  # none: the order stays at 0 (CpuMeter reads this)

    @classmethod
    def start(cls) -> "Lending":
        work_dir = Path(tempfile.mkdtemp(prefix="bench-lending-"))
        keys = work_dir / "keys"
        keys.mkdir()
        generate(str(keys))
        infra = Infra(pg_server_url=PG_SERVER_URL, amqp_server_url=AMQP_SERVER_URL, redis_url=REDIS_URL,
                      keys_dir=str(keys), internal_token=(keys / "internal_token").read_text().strip())
        infra.setup()
        platform = cls(infra, work_dir)
        try:
            service = WebService("lending", infra.service_env("lending"), work_dir, workers=LENDING_WORKERS,
                                 port=free_port(), options=("--worker-class", "gthread", "--threads",
                                                            str(LENDING_THREADS), "--reuse-port"))
            platform.web["lending"] = service.start(timeout=60)
        except Exception:
            platform.stop()
            raise
        return platform

    @property
    def secret(self) -> str:
        return (Path(self.infra.keys_dir) / "rongshu_secret").read_text().strip()

    def database(self, package: str = "lending") -> str:
        """lending's database, whatever ``package`` CpuMeter names (it only finds the run's backends)."""
        return self.infra.database_url("lending")

    def orders(self) -> int:
        return scalar(self.database(), "select count(*) from partner_orders where status = 0")

    def stop(self) -> None:
        for process in self.web.values():
            process.stop()
        self.infra.teardown()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def push_phase(lending: Lending, count: int) -> dict:
    """Post ``count`` signed orders of new people with wrk; the figures, with CPU per order by process group."""
    before = lending.orders()
    bodies = lending.work_dir / "orders.txt"
    bodies.write_text("\n".join(envelopes(lending.secret, count, first=before)) + "\n")
    script = lending.work_dir / "push.lua"
    script.write_text(PUSH_LUA)
    with CpuMeter(lending) as meter:
        figures = wrk_until(lambda: lending.orders() - before >= count, lending.web["lending"].url, script,
                            CONNECTIONS, timeout=120, file=bodies)
    stored = lending.orders() - before
    return {**figures, "stored": stored, "orders_per_s": round(stored / meter.elapsed, 1),
            "seconds": round(meter.elapsed, 2), "cpu": meter}


def run_push(seconds: float = 10.0) -> list[dict]:
    """The push phase: a warm-up, then ``BENCH_ORDERS`` orders; prints the figures and returns the rows."""
    wrk.ensure_wrk()
    lending = Lending.start()
    try:
        print(f"lending push bench: lending {LENDING_WORKERS} gthread workers x {LENDING_THREADS} threads, "
              f"wrk {CONNECTIONS} connections, {ORDERS} orders", flush=True)
        push_phase(lending, 500)  # warm-up: connections, the pool, the JIT of the Lua
        timed = push_phase(lending, ORDERS)
        meter = timed.pop("cpu")
        print(f"  POST /rongshu/order/push: {timed['orders_per_s']} orders/s stored ({timed['stored']} of {ORDERS} "
              f"in {timed['seconds']}s; statuses {timed['statuses']}), p50 {timed['p50_ms']} ms, "
              f"p99 {timed['p99_ms']} ms", flush=True)
        print(f"  {meter.describe(timed['stored'])}", flush=True)
        rows = [row("lending.orders_pushed_per_s", timed["orders_per_s"], "orders/s", f">= {TARGET_PUSH_RATE}",
                    timed["orders_per_s"] >= TARGET_PUSH_RATE and timed["stored"] == ORDERS),
                row("lending.push_p99_ms", timed["p99_ms"], "ms", None, True),
                row("lending.cpu_ms_per_push", meter.per_item_ms(timed["stored"])["total"], "ms", None, True)]
        timed["cpu_ms_per_order"] = meter.per_item_ms(timed["stored"])
        return rows, timed
    finally:
        lending.stop()


def run(seconds: float = 10.0) -> list[dict]:
    """Both phases; writes bench/results/lending.{json,txt}."""
    rows, pushed = run_push(seconds)
    save("lending", rows, {"push": pushed})
    return rows


def main(seconds: float = 10.0) -> int:
    """Entry for ``python -m bench.lending``: the number of missed targets."""
    return sum(not r["ok"] for r in run(seconds))


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
