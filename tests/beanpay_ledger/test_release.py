"""Releasing a hold for good (``/account/balance/release``): whatever the order in which a deduct and
its release arrive, a released hold is never left deducted, and PostgreSQL itself refuses the rows that
would break that."""
import multiprocessing
import random

import psycopg
import pytest
import requests

from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants

RELEASE = "/account/balance/release"


def posting(eid: str, trade_no: str, amount: int) -> dict:
    return {"eid": eid, "trade_no": trade_no, "amount": amount}


def test_a_release_before_the_deduct_refuses_that_deduct_for_good(api, funded, db):
    first = api.post(RELEASE, posting(funded, "H1", 4000))
    assert first[0] == 200
    assert {k: first[1][k] for k in ("eid", "trade_no", "amount", "released", "record")} == {
        "eid": funded, "trade_no": "H1", "amount": 4000, "released": "void", "record": None}
    assert first[1]["create_time"].endswith("Z")
    assert api.post(RELEASE, posting(funded, "H1", 4000)) == (201, first[1])
    assert api.post(RELEASE, posting(funded, "H1", 4001))[0] == 409

    late = posting(funded, "H1", 4000)
    for answer in (api.post("/account/balance/deduct", late), api.get("/account/balance/deduct", late),
                   api.post("/account/balance/deduct", None, data=late)):
        assert answer[0] == 409 and answer[1]["code"] == 911 and "released" in answer[1]["msg"], answer
    batch = api.post("/account/balance/batch", {"operations": [{"op": "deduct", **late},
                                                               {"op": "deduct", **posting(funded, "H2", 5)}]})
    assert [(r["status"], r["code"]) for r in batch[1]["results"]] == [(409, 911), (200, 0)]
    assert api.post("/account/balance/refund", late)[0] == 404  # nothing was ever held
    assert api.get("/account/balance/query", {"eid": funded})[1]["balance"] == 10_000 - 5
    assert_invariants(db)


def test_a_release_after_the_deduct_refunds_it(api, funded, db):
    deduct = api.post("/account/balance/deduct", posting(funded, "H1", 4000))
    assert deduct[0] == 200
    released = api.post(RELEASE, posting(funded, "H1", 4000))
    assert released[0] == 200 and released[1]["released"] == "refund"
    record = released[1]["record"]
    assert (record["trade_no"], record["change_type"], record["amount"], record["balance"]) == ("H1", 3, 4000, 10_000)
    assert released[1]["create_time"] == record["create_time"]
    assert api.post(RELEASE, posting(funded, "H1", 4000)) == (201, released[1])
    assert api.post("/account/balance/refund", posting(funded, "H1", 4000)) == (201, record)
    assert api.post("/account/balance/deduct", posting(funded, "H1", 4000)) == (201, deduct[1])  # a replay
    assert api.get("/account/balance/query", {"eid": funded})[1]["balance"] == 10_000
    assert_invariants(db)


def test_a_hold_is_released_whole(api, funded):
    api.post("/account/balance/deduct", posting(funded, "H1", 4000))
    for amount in (3999, 4001):
        answer = api.post(RELEASE, posting(funded, "H1", amount))
        assert answer[0] == 409 and answer[1]["code"] == 909
    api.post("/account/balance/refund", posting(funded, "H2", 1))  # no deduct: 404, nothing recorded
    api.post("/account/balance/deduct", posting(funded, "H3", 100))
    assert api.post("/account/balance/refund", posting(funded, "H3", 50))[0] == 200  # a partial refund
    assert api.post(RELEASE, posting(funded, "H3", 100))[0] == 409  # its refund has another amount
    assert api.get("/account/balance/query", {"eid": funded})[1]["balance"] == 10_000 - 4000 - 50


def test_a_release_is_final_even_before_the_account_exists(api):
    eid = new_id("later")
    assert api.post(RELEASE, posting(eid, "H1", 700))[0] == 200
    assert api.post("/account/create", {"eid": eid, "name": "n"})[0] == 200
    api.post("/account/balance/add", posting(eid, "fund", 1000))
    assert api.post("/account/balance/deduct", posting(eid, "H1", 700))[1]["code"] == 911
    assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == 1000


def test_a_locked_account_waits_for_a_refund_but_not_for_a_void(api, funded):
    api.post("/account/balance/deduct", posting(funded, "H1", 100))
    api.post("/account/lock", {"eid": funded})
    assert api.post(RELEASE, posting(funded, "H1", 100))[0] == 423
    assert api.post(RELEASE, posting(funded, "H2", 100))[0] == 200
    api.post("/account/unlock", {"eid": funded})
    assert api.post(RELEASE, posting(funded, "H1", 100))[0] == 200
    assert api.get("/account/balance/query", {"eid": funded})[1]["balance"] == 10_000


@pytest.mark.parametrize("body", [{}, {"eid": "e", "trade_no": "t"}, {"eid": "e", "trade_no": "t", "amount": 0},
                                  {"eid": "e", "trade_no": "t", "amount": "1.5"}, {"eid": " ", "trade_no": "t",
                                                                                  "amount": 1}])
def test_bad_input_is_400(api, body):
    answer = api.post(RELEASE, body)
    assert answer[0] == 400 and answer[1]["code"] == 903


def test_a_release_needs_the_service_token(api, funded):
    assert api.post(RELEASE, posting(funded, "H1", 1), headers={})[0] == 401


def _account_id(db, eid: str) -> int:
    return db.execute("select account_id from account where eid = %s", (eid,)).fetchone()[0]


def test_postgresql_refuses_a_deduct_of_a_released_trade_and_a_release_of_a_deducted_one(api, funded, db):
    account_id = _account_id(db, funded)
    api.post(RELEASE, posting(funded, "void", 10))
    api.post("/account/balance/deduct", posting(funded, "held", 10))
    raw_deduct = ("insert into account_record (account_id, trade_no, change_type, amount, balance) values"
                  f" ({account_id}, 'void', 2, -10,"
                  f" (select balance - 10 from account where account_id = {account_id}))")
    refused = [raw_deduct,
               f"insert into deduct_release (eid, trade_no, amount) values ('{funded}', 'held', 10)",
               f"update deduct_release set amount = 11 where eid = '{funded}'",
               f"delete from deduct_release where eid = '{funded}'",
               "truncate deduct_release"]
    for statement in refused:
        with pytest.raises(psycopg.errors.DatabaseError):
            db.execute(statement)
    assert db.execute("select count(*) from deduct_release where eid = %s", (funded,)).fetchone()[0] == 1
    assert_invariants(db)


def racer(url: str, token: str, eid: str, seed: int, trades: int) -> list[tuple]:
    """Send each trade number's deduct and release in a random order (other racers send them too)."""
    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    answers = []
    for k in rng.sample(range(trades), trades):
        for path in rng.sample(["deduct", "release"], 2):
            response = session.post(f"{url}/account/balance/{path}", json=posting(eid, f"T{k}", 100 + k), timeout=30)
            answers.append((path, k, response.status_code, response.json()))
    return answers


@pytest.mark.e2e
def test_deducts_and_releases_racing_in_any_order_never_leave_a_released_hold(infra, procs, api, db):
    threaded = infra.service_env("beanpay_ledger", GUNICORN_CMD_ARGS="--worker-class gthread --threads 8")
    ledger = procs.web("beanpay_ledger", threaded, workers=2)
    eid, trades = new_id("race"), 40
    api.post("/account/create", {"eid": eid, "name": "race"})
    api.post("/account/balance/add", posting(eid, "fund", 1_000_000))
    with multiprocessing.get_context("fork").Pool(6) as pool:
        batches = pool.starmap(racer, [(ledger.url, infra.internal_token, eid, seed, trades) for seed in range(6)])
    answers = [answer for batch in batches for answer in batch]
    assert {(path, status) for path, _, status, _ in answers} <= {
        ("deduct", 200), ("deduct", 201), ("deduct", 409), ("release", 200), ("release", 201)}
    assert {body["released"] for path, _, status, body in answers if path == "release"} == {"refund", "void"}
    refused = [body for path, _, status, body in answers if path == "deduct" and status == 409]
    assert refused and all(body["code"] == 911 for body in refused)
    assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == 1_000_000
    kinds = db.execute("select trade_no, array_agg(change_type order by change_type) from account_record r"
                       " join account a using (account_id) where a.eid = %s and trade_no <> 'fund' group by trade_no",
                       (eid,)).fetchall()
    voids = {row[0] for row in db.execute("select trade_no from deduct_release where eid = %s", (eid,))}
    assert all(types == [2, 3] for _, types in kinds)  # every hold that landed was refunded
    assert {trade for trade, _ in kinds} | voids == {f"T{k}" for k in range(trades)}
    assert not {trade for trade, _ in kinds} & voids
    assert_invariants(db)
