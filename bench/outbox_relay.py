"""The outbox relay's publish rate: ``python -m bench.outbox_relay [TREE ...]``.

Fills the agent's outbox (a fresh database and RabbitMQ vhost, tests.support.infra) with ``N`` pending
messages, starts ``RELAYS`` relay processes (``python -m depository_agent.workers.outbox_relay``) and
waits until every row is sent. The rate is taken between the first and the last ``sent_at``, so
starting the processes does not count; the CPU per message of the relays and of their PostgreSQL
backends is read from /proc. Given several source trees (a checkout of another commit, for before and
after), it runs them in turn, ``ROUNDS`` times, so that a machine whose load changes treats them alike.
Environment: ``N`` (40000), ``ROUNDS`` (3), ``RELAYS`` (1).
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from shared.contract import GATEWAY_NOTIFY_EXCHANGE, GATEWAY_NOTIFY_QUEUE
from shared.devkeys import generate
from shared.messaging import connect, declare_gateway_notify
from tests.support.infra import Infra

ROOT = Path(__file__).resolve().parents[1]
BODY = json.dumps({"requestNo": "REQ_" + "0" * 32, "respCode": "00000", "respMsg": "success", "status": 1,
                   "transactionStatus": "SUCCESS", "amount": "100.00", "serviceName": "RECHARGE"})


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fill(conn: psycopg.Connection, count: int) -> None:
    conn.execute("truncate outbox restart identity")
    conn.execute("insert into outbox (exchange, routing_key, message_id, headers, body)"
                 " select %s, 'RECHARGE', 'RECHARGE:' || n, '{\"x-request-id\": \"bench\"}', %s"
                 " from generate_series(1, %s) n", (GATEWAY_NOTIFY_EXCHANGE, BODY, count))
    conn.execute("vacuum analyze outbox")


def _round(conn: psycopg.Connection, tree: Path, env: dict, count: int, relays: int) -> dict:
    """One run of ``relays`` relays of ``tree`` over ``count`` pending rows."""
    _fill(conn, count)
    env = {**env, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'services'}"}
    processes = [subprocess.Popen([sys.executable, "-m", "depository_agent.workers.outbox_relay"], cwd=tree, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(relays)]
    started, backends = time.monotonic(), []
    try:
        while len(backends) < relays and time.monotonic() - started < 10:
            backends = [pid for (pid,) in conn.execute(
                "select pid from pg_stat_activity where datname = current_database()"
                " and application_name like 'depository-agent.outbox-relay:%%'").fetchall()]
            time.sleep(0.02)
        while conn.execute("select count(*) from outbox where sent_at is null").fetchone()[0]:
            if time.monotonic() - started > 600:
                raise RuntimeError("the relays did not empty the outbox in 10 minutes")
            time.sleep(0.2)
        relay_cpu = sum(_cpu_s(process.pid) for process in processes)
        backend_cpu = sum(_cpu_s(pid) for pid in backends)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
    span, first = conn.execute("select extract(epoch from max(sent_at) - min(sent_at))::float8,"
                               " count(*) filter (where sent_at = (select min(sent_at) from outbox)) from outbox"
                               ).fetchone()
    return {"rate": (count - first) / span, "relay_us": relay_cpu * 1e6 / count, "backend_us": backend_cpu * 1e6 / count}


def run(trees: list[Path], count: int, rounds: int, relays: int) -> dict[str, list[dict]]:
    """``rounds`` runs of each tree, in turn; the figures of every run by tree."""
    keys = Path("/tmp/bench-outbox-relay-keys")
    generate(str(keys))
    infra = Infra(pg_server_url=os.environ.get("TEST_PG_SERVER_URL", "postgresql://postgres@127.0.0.1:5432"),
                  amqp_server_url=os.environ.get("TEST_AMQP_SERVER_URL", "amqp://guest:guest@127.0.0.1:5672"),
                  redis_url=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), keys_dir=str(keys),
                  internal_token="bench")
    infra.setup()
    try:
        env = {**os.environ, **infra.service_env("depository_agent", OUTBOX_RETENTION_HOURS=0)}
        with connect(infra.amqp_url, "bench") as amqp, psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            channel = amqp.channel()
            declare_gateway_notify(channel)
            figures: dict[str, list[dict]] = {str(tree): [] for tree in trees}
            for number in range(rounds):
                for tree in trees:
                    channel.queue_purge(GATEWAY_NOTIFY_QUEUE)
                    result = _round(conn, tree, env, count, relays)
                    figures[str(tree)].append(result)
                    print(f"round {number} {tree}: {result['rate']:,.0f} messages/s; CPU per message: relay"
                          f" {result['relay_us']:.0f} µs, its PostgreSQL backend {result['backend_us']:.0f} µs",
                          flush=True)
        return figures
    finally:
        infra.teardown()


def main() -> None:
    trees = [Path(arg).resolve() for arg in sys.argv[1:]] or [ROOT]
    figures = run(trees, int(os.environ.get("N", "40000")), int(os.environ.get("ROUNDS", "3")),
                  int(os.environ.get("RELAYS", "1")))
    for tree, runs in figures.items():
        rates = sorted(round(result["rate"]) for result in runs)
        print(f"{tree}: {rates[0]:,}-{rates[-1]:,} messages/s, median {statistics.median(rates):,.0f};"
              f" relay {statistics.median(r['relay_us'] for r in runs):.0f} µs,"
              f" backend {statistics.median(r['backend_us'] for r in runs):.0f} µs CPU per message")


if __name__ == "__main__":
    main()
