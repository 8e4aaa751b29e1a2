"""Service packages against the real PostgreSQL: capacity, daily limit, expiry, idempotency."""
import psycopg
import pytest

from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants


@pytest.fixture
def package(api, account):
    body = {"eid": account, "spkg_id": new_id("pkg"), "name": "SMS", "total": 10, "daily": 4, "expires": "20991231"}
    status, created = api.post("/package/create", body)
    assert status == 200
    return body, created


def test_create_query_and_idempotent_create(api, package):
    body, created = package
    assert {k: created[k] for k in ("spkg_id", "total_capacity", "total_remain", "capacity_daily", "deduct_today",
                                    "expires")} == \
        {"spkg_id": body["spkg_id"], "total_capacity": 10, "total_remain": 10, "capacity_daily": 4,
         "deduct_today": 0, "expires": "20991231"}
    assert api.post("/package/create", {**body, "total": 99}) == (201, created)
    assert api.get("/package/query", {"eid": body["eid"], "spkg_id": body["spkg_id"]}) == (200, created)
    status, records = api.get("/package/record/query", {"eid": body["eid"], "spkg_id": body["spkg_id"]})
    assert (status, records["count"], records["data"][0]["num"], records["data"][0]["change_type"]) == (200, 1, 10, 0)


def test_capacity_postings(api, package, db):
    body, _ = package
    ref = {"eid": body["eid"], "spkg_id": body["spkg_id"]}
    status, record = api.post("/package/capacity/deduct", {**ref, "trade_no": "u1", "num": 3})
    assert (status, record["num"], record["remain"]) == (200, -3, 7)
    assert api.post("/package/capacity/deduct", {**ref, "trade_no": "u1", "num": 3}) == (201, record)
    assert api.post("/package/capacity/deduct", {**ref, "trade_no": "u1", "num": 2})[0] == 409
    status, error = api.post("/package/capacity/deduct", {**ref, "trade_no": "u2", "num": 2})
    assert (status, error["code"], "daily" in error["msg"]) == (422, 904, True)
    assert api.post("/package/capacity/refund", {**ref, "trade_no": "u1", "num": 4})[0] == 400
    assert api.post("/package/capacity/refund", {**ref, "trade_no": "zz", "num": 1})[0] == 404
    assert api.post("/package/capacity/refund", {**ref, "trade_no": "u1", "num": 3})[1]["remain"] == 10
    status, capacity = api.get("/package/capacity/query", ref)
    assert (status, capacity) == (200, {"spkg_id": body["spkg_id"], "total_capacity": 10, "total_remain": 10,
                                        "capacity_daily": 4, "deduct_today": 0, "expires": "20991231"})
    assert api.post("/package/capacity/add", {**ref, "trade_no": "buy", "num": 5})[1]["remain"] == 15
    assert api.post("/package/capacity/deduct", {**ref, "trade_no": "u3", "num": 4})[0] == 200
    status, error = api.post("/package/capacity/deduct", {**ref, "trade_no": "u4", "num": 1})
    assert (status, error["code"]) == (422, 904)
    assert api.get("/package/capacity/query", ref)[1]["deduct_today"] == 4
    assert api.get("/package/record/query", {**ref, "change_type": 2})[1]["count"] == 2
    assert_invariants(db)


def test_never_below_zero(api, account):
    ref = {"eid": account, "spkg_id": "small"}
    api.post("/package/create", {**ref, "name": "n", "total": 2, "expires": "20991231"})
    status, error = api.post("/package/capacity/deduct", {**ref, "trade_no": "a", "num": 3})
    assert (status, error["code"], error["msg"].startswith("insufficient capacity")) == (422, 904, True)
    assert api.get("/package/capacity/query", ref)[1]["total_remain"] == 2


def test_expired_package_refuses_use(api, account):
    ref = {"eid": account, "spkg_id": "old"}
    assert api.post("/package/create", {**ref, "name": "n", "total": 5, "expires": "20000101"})[0] == 200
    status, error = api.post("/package/capacity/deduct", {**ref, "trade_no": "a", "num": 1})
    assert (status, error["code"]) == (422, 906)
    assert api.get("/package/capacity/query", ref)[1]["total_remain"] == 5


def test_daily_limit_resets_when_the_business_day_changes(package, ledger_url):
    body, _ = package
    post = "select outcome from package_post(2::int2, %s, %s, %s, %s)"
    with psycopg.connect(ledger_url, autocommit=True) as db:
        _deduct_across_two_days(db, post, body)


def _deduct_across_two_days(db, post, body):
    db.execute("set beanpay.business_timezone = 'Etc/GMT+12'")  # UTC-12: always the day before UTC+14
    assert db.execute(post, (body["eid"], body["spkg_id"], "d1", 4)).fetchone()[0] == "posted"
    assert db.execute(post, (body["eid"], body["spkg_id"], "d2", 1)).fetchone()[0] == "daily_limit"
    db.execute("set beanpay.business_timezone = 'Etc/GMT-14'")  # the next business day
    assert db.execute(post, (body["eid"], body["spkg_id"], "d2", 4)).fetchone()[0] == "posted"
    remain, today = db.execute("select total_remain, deduct_today from package where spkg_id = %s",
                               (body["spkg_id"],)).fetchone()
    assert (remain, today) == (2, 4)


def test_unknown_package_or_account(api, account):
    assert api.get("/package/query", {"eid": account, "spkg_id": "none"})[0] == 404
    assert api.get("/package/capacity/deduct", {"eid": account, "spkg_id": "none", "trade_no": "t", "num": 1})[0] == 404
    status, error = api.post("/package/create", {"eid": new_id(), "spkg_id": "p", "name": "n", "total": 1,
                                                 "expires": "20991231"})
    assert (status, error["code"]) == (404, 908)
