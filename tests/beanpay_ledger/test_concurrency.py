"""Many real client processes hammer the ledger under gunicorn; every invariant holds afterwards.

Trade numbers come from a small pool so that the same posting arrives many times, at the same
moment, from different processes and gunicorn workers: each must be applied exactly once. The
workers run threads (as in production), so concurrent postings are applied in group commits, mixing
adds, deducts, refunds of deducts of the same group, replays and conflicts.
"""
import multiprocessing
import random
import time
from collections import Counter, defaultdict

import pytest
import requests

from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants

CLIENTS = 16
SECONDS = 8
TRADES = 60  # trade numbers per operation kind and account: plenty of collisions


def amount_of(op: str, k: int) -> int:
    """The one amount every client sends for a trade number (so repeats are replays, not conflicts)."""
    return {"add": 100 + k, "deduct": 80 + k, "refund": (80 + k) // 2}[op]


def client(url: str, token: str, eids: list[str], seed: int, seconds: float) -> list[tuple]:
    """Post random add/deduct/refund for ``seconds``; return (op, eid, trade_no, amount, status)."""
    deadline = time.time() + seconds
    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    answers = []
    while time.time() < deadline:
        op = rng.choice(("add", "add", "deduct", "deduct", "refund"))
        eid, k = rng.choice(eids), rng.randrange(TRADES)
        trade_no = f"{'d' if op == 'refund' else op[0]}{k}"
        amount = amount_of(op, k) + (1 if rng.random() < 0.03 else 0)  # a few deliberate conflicts
        response = session.post(f"{url}/account/balance/{op}", json={"eid": eid, "trade_no": trade_no,
                                                                      "amount": amount}, timeout=10)
        answers.append((op, eid, trade_no, amount, response.status_code))
    return answers


@pytest.mark.e2e
def test_concurrent_postings_keep_every_invariant(infra, procs, api, db):
    threaded = infra.service_env("beanpay_ledger", GUNICORN_CMD_ARGS="--worker-class gthread --threads 8")
    ledger = procs.web("beanpay_ledger", threaded, workers=2)
    eids = [new_id("hot") for _ in range(4)]
    for eid in eids:
        assert api.post("/account/create", {"eid": eid, "name": "hot", "credit": 300})[0] == 200
    # fork: the clients start at once (the parent's pool threads are never used in a child).
    with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
        batches = pool.starmap(client, [(ledger.url, infra.internal_token, eids, seed, SECONDS)
                                         for seed in range(CLIENTS)])
    answers = [answer for batch in batches for answer in batch]
    statuses = Counter(answer[-1] for answer in answers)
    assert len(answers) > 1000 and set(statuses) <= {200, 201, 400, 404, 409, 422}, statuses
    assert statuses[201] > 0 and statuses[409] > 0 and statuses[422] > 0, statuses

    assert_invariants(db)
    applied = Counter((op, eid, trade_no) for op, eid, trade_no, _, status in answers if status == 200)
    assert max(applied.values()) == 1, "a posting was applied twice"
    expected_balance = defaultdict(int)
    for op, eid, trade_no, amount, status in answers:
        if status == 200:
            expected_balance[eid] += -amount if op == "deduct" else amount
    change = {"add": 1, "deduct": 2, "refund": 3}
    for eid in eids:
        balance = api.get("/account/balance/query", {"eid": eid})[1]["balance"]
        assert balance == expected_balance[eid], eid
        stored = {(row[0], row[1]) for row in db.execute(
            "select change_type, trade_no from account_record r join account a using (account_id) where eid = %s",
            (eid,))}
        assert stored == {(change[op], trade_no) for op, e, trade_no in applied if e == eid}
    assert all(status in (200, 201, 409, 422, 404, 400) for *_, status in answers)
    committed_together = db.execute(
        "select count(*) from (select 1 from account_record r join account a using (account_id)"
        " where a.eid = any(%s) group by r.xmin::text having count(*) > 1) t", (eids,)).fetchone()[0]
    assert committed_together > 0, "no postings were ever applied in one group commit"
    assert ledger.alive()
