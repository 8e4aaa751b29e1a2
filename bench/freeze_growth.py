"""PostgreSQL's CPU per freeze as a project's live tenders grow: ``python -m bench.freeze_growth``.

The bank sandbox's ``bank_freeze`` (services/bank_sandbox/sql/01_freeze.sql) called directly, in
autocommit, on the freezes bench's books (50 funders, 8 projects), in rounds of ``ROUND`` freezes that
all stay frozen; each round reports the backend's CPU per call (from /proc) with the live freezes
before it. The frozen-balance checks at commit once summed every live freeze of the user and of the
project; with the tallies of migration 004 they read one row each, so the cost should not grow.
Results: results/freeze_growth.txt.
"""
import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from bench import freezes

RESULTS = Path(__file__).resolve().parent / "results"
ROUND, ROUNDS = 2000, 5


def backend_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    stack = freezes.Stack.start()
    lines = []
    try:
        funders, projects = freezes.prepare(stack, 50)
        with psycopg.connect(stack.database("bank_sandbox"), autocommit=True) as conn:
            pid = conn.info.backend_pid
            for number in range(ROUNDS):
                started, cpu = time.monotonic(), backend_cpu_s(pid)
                for i in range(ROUND):
                    request_no = "REQ_" + uuid.uuid4().hex.upper()
                    conn.execute("select outcome, resp_code from bank_freeze(%s, %s, %s, %s, %s, %s, %s, %s)", (
                        request_no, "WANXINP2P", funders[i % len(funders)], Jsonb({"requestNo": request_no}),
                        datetime.now(timezone.utc) + timedelta(minutes=30), projects[i % len(projects)], 1,
                        "TENDER")).fetchone()
                per_call = (backend_cpu_s(pid) - cpu) / ROUND * 1000
                wall = (time.monotonic() - started) / ROUND * 1000
                live = number * ROUND
                lines.append(f"{live:>6} live freezes ({live // len(projects):>5} per project) before the round:"
                             f" PostgreSQL {per_call:.3f} ms CPU per freeze, {wall:.3f} ms wall")
                print(lines[-1], flush=True)
    finally:
        stack.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "freeze_growth.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
