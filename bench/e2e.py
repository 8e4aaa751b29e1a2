"""End to end, bank notification to balance visible in the ledger: backlog drain rate and paced latency.

On the platform of ``bench/user_center.py`` (ledger, agent + outbox relay, user-center + its
GatewayNotifyConsumer on fresh databases), with the consumer stopped:
1. creates the pending recharge records through user-center (wrk), then signs a RECHARGE success
   notification for each with the bank key;
2. backlog: posts ``BENCH_BACKLOG`` (10,000) notifications to the agent's /gateway (wrk), waits
   until the relay has put them all in ``user-center.gateway-notify``, starts the consumer and
   measures how fast it applies them until every record is settled, then checks every user's
   ledger balance;
3. paced: with the consumer running, posts notifications at ``BENCH_PACED_RATE`` (200/s, open loop)
   and measures, per notification, the time from its scheduled send to its posting being visible in
   the ledger's database (polled every 10 ms): p50/p99.
Results: bench/results/e2e.{json,txt}.
"""
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import psycopg
import requests

from bench import wrk
from bench.user_center import USERS, Bank, CpuMeter, Platform, create_recharges, row, save, wait, wrk_until
from shared.ledger_client import LedgerClient
from shared.messaging import GATEWAY_NOTIFY_QUEUE, queue_depths

BACKLOG = int(os.environ.get("BENCH_BACKLOG", "10000"))
PACED_RATE = int(os.environ.get("BENCH_PACED_RATE", "200"))
PACED_SENDERS = 48  # enough that a sender is free at each scheduled time while the agent answers
TARGET_DRAIN = 500
TARGET_P99_MS = 500
FEN_PER_RECHARGE = 100  # bench/user_center.py's recharges are 1.00 each

# wrk script: POST each line of BENCH_FILE (a form body) to /gateway once, spread over the threads
GATEWAY_LUA = wrk.each_line_once("/gateway", "application/x-www-form-urlencoded")


def pending_recharges(platform: Platform, count: int) -> list[dict]:
    """``count`` pending recharge records (oldest first): request_no, user_no, amount (fen)."""
    with psycopg.connect(platform.database("user_center"), autocommit=True) as conn:
        rows = conn.execute("select request_no, user_no, amount from recharge_record where callback_status = 0"
                            " order by id limit %s", (count,)).fetchall()
    return [{"request_no": r[0], "user_no": r[1], "amount": r[2]} for r in rows]


def ready_messages(platform: Platform) -> int:
    return queue_depths(platform.infra.amqp_url, "bench-e2e", (GATEWAY_NOTIFY_QUEUE,))[GATEWAY_NOTIFY_QUEUE]


def settled(platform: Platform) -> int:
    with psycopg.connect(platform.database("user_center"), autocommit=True) as conn:
        return conn.execute("select count(*) from recharge_record where callback_status = 1").fetchone()[0]


def backlog(platform: Platform, bank: Bank, records: list[dict]) -> dict:
    """Queue the notifications of ``records`` with the consumer stopped, then time the consumer."""
    lines = platform.work_dir / "notifications.txt"
    lines.write_text("\n".join(urlencode(bank.recharge_success(r["request_no"], "1.00")) for r in records) + "\n")
    script = platform.work_dir / "gateway.lua"
    script.write_text(GATEWAY_LUA)
    started = time.monotonic()
    posted = wrk_until(lambda: ready_messages(platform) >= len(records), platform.url("agent"), script, 32,
                       file=lines)
    print(f"  posted {posted['requests']} notifications to /gateway (statuses {posted['statuses']}), all queued "
          f"by the relay at {len(records) / (time.monotonic() - started):.1f}/s", flush=True)
    before = settled(platform)
    with CpuMeter(platform) as meter:
        started = time.monotonic()
        platform.start_consumer()
        first = None
        while (done := settled(platform) - before) < len(records):
            if done and first is None:
                first = time.monotonic()
            if time.monotonic() - started > 600:
                raise RuntimeError(f"backlog not drained: {done} of {len(records)}")
            time.sleep(0.05)
        finished = time.monotonic()
    wrong = wrong_balances(platform, records)
    return {"drain_per_s": round(len(records) / (finished - (first or started)), 1),
            "drain_with_start_per_s": round(len(records) / (finished - started), 1),
            "seconds": round(finished - started, 2), "wrong_balances": wrong, "cpu": meter}


def wrong_balances(platform: Platform, records: list[dict]) -> int:
    """Users whose ledger balance is not the sum of their applied recharges."""
    expected: dict[str, int] = {}
    for record in records:
        expected[record["user_no"]] = expected.get(record["user_no"], 0) + record["amount"]
    ledger = LedgerClient(platform.url("ledger"), platform.env["user_center"])
    return sum(ledger.balance(user_no)["balance"] != fen for user_no, fen in expected.items())


class LedgerWatcher:
    """Notes when each trade_no first becomes visible in the ledger's database (polled every 10 ms)."""

    def __init__(self, database_url: str):
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.last_id = self.conn.execute("select coalesce(max(record_id), 0) from account_record").fetchone()[0]
        self.seen: dict[str, float] = {}
        self.stopping = False
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.stopping:
            rows = self.conn.execute("select record_id, trade_no from account_record where record_id > %s",
                                     (self.last_id,)).fetchall()
            now = time.monotonic()
            for record_id, trade_no in rows:
                self.seen.setdefault(trade_no, now)
                self.last_id = max(self.last_id, record_id)
            time.sleep(0.01)

    def stop(self) -> None:
        self.stopping = True
        self.thread.join()
        self.conn.close()


def paced(platform: Platform, bank: Bank, records: list[dict]) -> dict:
    """Post ``records``' notifications at PACED_RATE; latency from scheduled send to ledger visibility."""
    bodies = [bank.recharge_success(r["request_no"], "1.00") for r in records]
    url = f"{platform.url('agent')}/gateway"
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session
    watcher = LedgerWatcher(platform.database("beanpay_ledger"))
    start = time.monotonic() + 0.5
    scheduled = [start + index / PACED_RATE for index in range(len(records))]
    late, answered = [], [0.0] * len(records)

    def send(index: int) -> None:
        pause = scheduled[index] - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            late.append(-pause)
        answer = session().post(url, data=bodies[index], timeout=30)
        answered[index] = time.monotonic()
        assert answer.text == "OK", answer.text

    try:
        with CpuMeter(platform) as meter, ThreadPoolExecutor(PACED_SENDERS) as senders:
            list(senders.map(send, range(len(records))))
            wait(lambda: all(r["request_no"] in watcher.seen for r in records), 60, "paced postings in the ledger",
                 every=0.05)
    finally:
        watcher.stop()
    latencies = [(watcher.seen[r["request_no"]] - at) * 1000 for r, at in zip(records, scheduled)]
    agent = [(done - at) * 1000 for done, at in zip(answered, scheduled)]  # until the agent's OK
    after_agent = [(watcher.seen[r["request_no"]] - done) * 1000 for r, done in zip(records, answered)]
    return {**percentiles(latencies), "agent_ok": percentiles(agent), "agent_ok_to_ledger": percentiles(after_agent),
            "achieved_per_s": round(len(records) / (scheduled[-1] - start), 1), "sends_late": len(late), "cpu": meter}


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50_ms": round(ordered[len(ordered) // 2], 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "max_ms": round(ordered[-1], 1)}


def run(seconds: float = 10.0) -> list[dict]:
    """The backlog and the paced run; prints the figures and returns the result rows."""
    wrk.ensure_wrk()
    platform = Platform.start()
    try:
        bank = Bank(platform.infra.keys_dir)
        platform.open_accounts(USERS, bank)
        platform.workers.pop("consumer").stop()
        paced_count = int(PACED_RATE * max(seconds, 10))
        create_recharges(platform, count=BACKLOG + paced_count)
        records = pending_recharges(platform, BACKLOG + paced_count)
        print(f"e2e bench: {USERS} users, {len(records)} pending recharges; backlog {BACKLOG}, paced "
              f"{PACED_RATE}/s x {paced_count}", flush=True)
        drained = backlog(platform, bank, records[:BACKLOG])
        print(f"  backlog of {BACKLOG}: applied at {drained['drain_per_s']}/s from the first application "
              f"({drained['drain_with_start_per_s']}/s including the consumer's start, {drained['seconds']}s); "
              f"wrong ledger balances: {drained['wrong_balances']}", flush=True)
        print(f"  {drained['cpu'].describe(BACKLOG)}", flush=True)
        timed = paced(platform, bank, records[BACKLOG:])
        print(f"  paced {PACED_RATE}/s ({timed['achieved_per_s']}/s sent, {timed['sends_late']} late): notification "
              f"to ledger p50 {timed['p50_ms']} ms, p99 {timed['p99_ms']} ms, max {timed['max_ms']} ms", flush=True)
        print(f"    of which until the agent's OK: p50 {timed['agent_ok']['p50_ms']} ms, p99 "
              f"{timed['agent_ok']['p99_ms']} ms; from the agent's OK to the ledger (outbox relay, RabbitMQ, "
              f"consumer, ledger): p50 {timed['agent_ok_to_ledger']['p50_ms']} ms, p99 "
              f"{timed['agent_ok_to_ledger']['p99_ms']} ms", flush=True)
        print(f"  {timed['cpu'].describe(paced_count)}", flush=True)
        rows = [row("e2e.backlog_drain_per_s", drained["drain_per_s"], "notifications/s", f">= {TARGET_DRAIN}",
                    drained["drain_per_s"] >= TARGET_DRAIN),
                row("e2e.backlog_wrong_balances", drained["wrong_balances"], "users", "= 0",
                    drained["wrong_balances"] == 0),
                row(f"e2e.paced_{PACED_RATE}_p50_ms", timed["p50_ms"], "ms", None, True),
                row(f"e2e.paced_{PACED_RATE}_p99_ms", timed["p99_ms"], "ms", f"< {TARGET_P99_MS}",
                    timed["p99_ms"] < TARGET_P99_MS)]
        drained["cpu"], timed["cpu"] = drained["cpu"].per_item_ms(BACKLOG), timed["cpu"].per_item_ms(paced_count)
        save("e2e", rows, {"backlog": drained, "paced": timed})
        return rows
    finally:
        platform.stop()


def main(seconds: float = 10.0) -> int:
    """Entry for ``python -m bench``: the number of missed targets."""
    return sum(not r["ok"] for r in run(seconds))


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
