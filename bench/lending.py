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
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg
import requests

from bench import wrk
from bench.user_center import CpuMeter, fresh_infra, row, save, scalar, wait, wrk_until
from shared.partner_envelope import seal
from tests.support.infra import Infra
from tests.support.lending_platform import PLATFORM_NO, Platform, start_lending_platform
from tests.support.processes import WebService, free_port

from lending.credit_engine import check_character

ORDERS = int(os.environ.get("BENCH_ORDERS", "6000"))
CONNECTIONS = int(os.environ.get("BENCH_LENDING_CONNECTIONS", "32"))
LENDING_WORKERS = int(os.environ.get("BENCH_LENDING_WORKERS", "2"))
LENDING_THREADS = int(os.environ.get("BENCH_LENDING_THREADS", "8"))
BATCH = int(os.environ.get("BENCH_BATCH", "200"))
BORROWER_CLIENTS = int(os.environ.get("BENCH_BORROWER_CLIENTS", "16"))
TARGET_PUSH_RATE = 300
TARGET_BATCH_SECONDS = 120
BATCH_LOAN = 1_000_000  # fen per order of the batch (person() pushes this amount)
APP_ID = "rongshu"

# wrk script: POST each line of BENCH_FILE (a signed envelope) to /rongshu/order/push once
PUSH_LUA = wrk.each_line_once("/rongshu/order/push", "application/json")


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
        infra, work_dir = fresh_infra("bench-lending-")
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
    bodies.write_text("\n".join(envelopes(lending.infra.partner_secret, count, first=before)) + "\n")
    script = lending.work_dir / "push.lua"
    script.write_text(PUSH_LUA)
    with CpuMeter(lending) as meter:
        figures = wrk_until(lambda: lending.orders() - before >= count, lending.web["lending"].url, script,
                            CONNECTIONS, timeout=120, file=bodies)
    stored = lending.orders() - before
    return {**figures, "stored": stored, "orders_per_s": round(stored / meter.elapsed, 1),
            "seconds": round(meter.elapsed, 2), "cpu": meter}


def run_push(seconds: float = 10.0) -> tuple[list[dict], dict]:
    """The push phase: a warm-up, then ``BENCH_ORDERS`` orders; prints the figures and returns the rows and
    the details."""
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


class Batch:
    """``BATCH`` orders on the whole platform: each pushed, then driven by its borrower as soon as it is
    approved (card, confirmation, the account opened through the one-time link, confirmation again)."""

    def __init__(self, stack, count: int):
        self.stack, self.platform, self.count = stack, Platform(stack), count
        self.bodies = [json.loads(body) for body in envelopes(self.platform.secret, count, first=1_000_000)]
        self.orders = [json.loads(body["bizData"])["orderNo"] for body in self.bodies]
        self.pushed_at: dict[str, float] = {}
        self.disbursed_at: dict[str, float] = {}
        self.borrowers: list[str] = []

    def push(self, index: int) -> None:
        body = self.bodies[index]
        answer = requests.post(f"{self.stack.url('lending')}/rongshu/order/push", json=body, timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"order/push answered {answer.status_code}: {answer.text}")
        self.pushed_at[self.orders[index]] = time.monotonic()

    def borrow(self, order_no: str) -> None:
        """What the borrower and the partner do once the order is approved."""
        partner = self.platform.partner
        wait(lambda: partner("audit/result", {"orderNo": order_no})[1]["data"]["status"] == 6001, 300, "approval",
             every=0.5)
        status, bound = partner("card/bind", {"orderNo": order_no, "bankCode": "ICBC",
                                              "cardNumber": "62220202" + order_no[-11:].translate(HEX_DIGITS),
                                              "mobile": self.mobile(order_no)})
        if status != 200:
            raise RuntimeError(f"card/bind: {bound}")
        status, confirmed = partner("loan/confirm", {"orderNo": order_no})
        if confirmed["data"]["status"] == "OPEN_ACCOUNT":
            borrower = self.platform.open_through_link(confirmed["data"]["openAccountUrl"])
            self.borrowers.append(borrower.profile()["userNo"])
            partner("loan/confirm", {"orderNo": order_no})

    def mobile(self, order_no: str) -> str:
        return json.loads(self.bodies[self.orders.index(order_no)]["bizData"])["mobile"]

    def disbursed(self) -> int:
        """How many of the batch's borrows are disbursed (30), noting when each was first seen so."""
        with psycopg.connect(self.stack.infra.database_url("lending"), autocommit=True) as conn:
            rows = conn.execute("select order_no from borrows where status = 30 and order_no = any(%s)",
                                (self.orders,)).fetchall()
        now = time.monotonic()
        for (order_no,) in rows:
            self.disbursed_at.setdefault(order_no, now)
        return len(rows)


HEX_DIGITS = str.maketrans("ABCDEF", "123456")


def batch_phase(stack, count: int) -> dict:
    """Push ``count`` orders at once and drive them to disbursement; seconds from the first push to the last
    disbursement, each order's push-to-disbursement percentiles, and bank = ledger for everyone involved."""
    batch = Batch(stack, count)
    started = time.monotonic()
    with ThreadPoolExecutor(BORROWER_CLIENTS) as clients:
        list(clients.map(batch.push, range(count)))
        pushed = time.monotonic() - started
        driving = [clients.submit(batch.borrow, order_no) for order_no in batch.orders]
        while batch.disbursed() < count:
            failed = [job.exception() for job in driving if job.done() and job.exception()]
            if failed:
                raise RuntimeError(f"a borrower's step failed: {failed[0]!r}")
            if time.monotonic() - started > 900:
                raise RuntimeError(f"only {batch.disbursed()} of {count} disbursed after 900 s")
            time.sleep(0.25)
    seconds = time.monotonic() - started
    each = sorted(batch.disbursed_at[o] - batch.pushed_at[o] for o in batch.orders)
    users = [stack.funder, PLATFORM_NO, *batch.borrowers]
    wait(lambda: batch.platform.differences(users) == {}, 120, "bank = ledger for everyone involved", every=1)
    return {"orders": count, "seconds": round(seconds, 1), "push_seconds": round(pushed, 2),
            "p50_s": round(each[len(each) // 2], 1), "p99_s": round(each[min(len(each) - 1, int(len(each) * .99))], 1),
            "max_s": round(each[-1], 1), "users_compared": len(users), "disagreeing": 0}


def run_batch() -> tuple[list[dict], dict]:
    """The batch phase on the whole platform, funded for the batch; the rows and the details."""
    infra, work_dir = fresh_infra("bench-lending-batch-")
    funded = format(Decimal(BATCH * BATCH_LOAN) / 100 + 1000, ".2f")
    try:
        stack = start_lending_platform(infra, work_dir, funded=funded, workers=2)
        try:
            print(f"lending batch bench: {BATCH} orders pushed at once, driven by {BORROWER_CLIENTS} borrower "
                  f"clients; the funder holds ¥{funded}", flush=True)
            timed = batch_phase(stack, BATCH)
        finally:
            stack.stop()
    finally:
        infra.teardown()
        shutil.rmtree(work_dir, ignore_errors=True)
    print(f"  {BATCH} orders from the first push to the last disbursement: {timed['seconds']} s (pushed in "
          f"{timed['push_seconds']} s); each order push -> disbursed p50 {timed['p50_s']} s, p99 {timed['p99_s']} s; "
          f"bank = ledger for all {timed['users_compared']} users involved", flush=True)
    rows = [row(f"lending.batch_{BATCH}_push_to_disbursed_s", timed["seconds"], "s", f"< {TARGET_BATCH_SECONDS}",
                timed["seconds"] < TARGET_BATCH_SECONDS),
            row("lending.batch_order_p99_s", timed["p99_s"], "s", None, True)]
    return rows, timed


def run(seconds: float = 10.0) -> list[dict]:
    """Both phases; writes bench/results/lending.{json,txt}."""
    rows, pushed = run_push(seconds)
    batch_rows, batch = run_batch()
    save("lending", rows + batch_rows, {"push": pushed, "batch": batch})
    return rows + batch_rows


def main(seconds: float = 10.0) -> int:
    """Entry for ``python -m bench.lending``: the number of missed targets."""
    return sum(not r["ok"] for r in run(seconds))


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
