"""The Huifu channel end to end: bank sandbox -> bank-callback -> crediting worker -> ledger.

Redis here is a private real server so that the test can stop it in the middle of the traffic.
"""
import uuid
from urllib.parse import parse_qs, parse_qsl, urlsplit

import psycopg
import pytest
import redis
import requests

from tests.e2e.conftest import FAST, set_faults, wait_for
from tests.support.processes import RedisServer, run_module
from tests.support.stack import start_stack


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def huifu_stack(infra, cache, tmp_path_factory):
    stack = start_stack(infra, tmp_path_factory.mktemp("huifu"), settings={
        **FAST, "REDIS_URL": cache.url, "CREDIT_POLL_MS": "100", "CREDIT_MAX_BACKOFF_MS": "500"},
        worker_names=("netsave_crediter", "notifier"))
    yield stack
    stack.stop()


def register(stack, openid: str) -> dict:
    response = requests.post(f"{stack.url('bank_sandbox')}/huifu/register", json={"usrId": openid}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def netsave(stack, cust_id: str, amount: str) -> dict:
    response = requests.post(f"{stack.url('bank_sandbox')}/huifu/netsave",
                             json={"usrCustId": cust_id, "amount": amount}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def ledger_balance(stack, infra, eid: str) -> int | None:
    response = requests.get(f"{stack.url('beanpay_ledger')}/account/balance/query", params={"eid": eid},
                            headers={"Authorization": f"Bearer {infra.internal_token}"})
    return response.json()["balance"] if response.status_code == 200 else None


def customers_table(infra) -> dict:
    with psycopg.connect(infra.database_url("bank_callback")) as conn:
        rows = conn.execute("select trim(openid), trim(cust_id) from bank_customers where not deleted").fetchall()
    return dict(rows)


def cache_hash(infra, cache) -> dict:
    client = redis.Redis.from_url(cache.url, decode_responses=True)
    return client.hgetall(f"{infra.redis_prefix}bank-customers")


def delivered_attempts(infra, reference: str) -> list[str]:
    """The kinds of accepted attempts the sandbox logged for the delivery of ``reference`` (the TrxId)."""
    with psycopg.connect(infra.database_url("bank_sandbox")) as conn:
        rows = conn.execute(
            "select a.kind from delivery_attempts a join deliveries d on d.id = a.delivery_id"
            " where d.reference = %s and a.accepted order by a.id", (reference,)).fetchall()
    return [row[0] for row in rows]


def netsave_rows(infra, ord_id: str) -> int:
    with psycopg.connect(infra.database_url("bank_callback")) as conn:
        return conn.execute("select count(*) from bank_netsave where trim(ord_id) = %s", (ord_id,)).fetchone()[0]


def test_register_and_three_recharges_credit_exactly_the_sum(huifu_stack, infra, cache):
    openid = f"wx{uuid.uuid4().hex[:20]}"
    customer = register(huifu_stack, openid)
    cust_id = customer["usrCustId"]
    wait_for(lambda: customers_table(infra).get(openid) == cust_id, what="customer stored")
    wait_for(lambda: cache_hash(infra, cache).get(openid) == cust_id, what="customer cached")

    page = requests.get(customer["pageCallbackUrl"], allow_redirects=False)
    assert page.status_code == 302
    route = urlsplit(page.headers["Location"])
    assert route.fragment.startswith("/BankUserRegisterCallback?")
    assert parse_qs(route.fragment.split("?", 1)[1])["RespCode"] == ["000"]

    first = netsave(huifu_stack, cust_id, "100.00")
    set_faults(huifu_stack, duplicates=1)  # the second recharge's callback is delivered twice
    second = netsave(huifu_stack, cust_id, "20.50")
    set_faults(huifu_stack, duplicates=0)
    third = netsave(huifu_stack, cust_id, "0.01")

    wait_for(lambda: ledger_balance(huifu_stack, infra, openid) == 12051, timeout=40, what="ledger credited")
    wait_for(lambda: delivered_attempts(infra, second["trxId"]) == ["send", "duplicate"], what="duplicate delivery")
    assert all(netsave_rows(infra, order["ordId"]) == 1 for order in (first, second, third))

    page = requests.get(third["pageCallbackUrl"], allow_redirects=False)
    assert page.status_code == 302 and "#/NetSaveCallback?" in page.headers["Location"]
    assert ledger_balance(huifu_stack, infra, openid) == 12051
    # The cache holds what this stack registered (other suites share the run's table): all of it as stored.
    cached, table = cache_hash(infra, cache), customers_table(infra)
    assert cached[openid] == cust_id
    assert all(table.get(key) == value for key, value in cached.items())


def test_redis_stopped_during_callbacks_loses_nothing_and_cache_is_rebuilt(huifu_stack, infra, cache):
    cache.stop()
    try:
        openid = f"wx{uuid.uuid4().hex[:20]}"
        cust_id = register(huifu_stack, openid)["usrCustId"]
        order = netsave(huifu_stack, cust_id, "66.60")
        # Stored, answered (the sandbox saw the exact RECV reply) and credited without Redis.
        wait_for(lambda: customers_table(infra).get(openid) == cust_id, what="customer stored without Redis")
        wait_for(lambda: delivered_attempts(infra, order["trxId"]) == ["send"], what="netsave acknowledged")
        wait_for(lambda: ledger_balance(huifu_stack, infra, openid) == 6660, timeout=40, what="credited without Redis")
    finally:
        cache.start()
    assert openid not in cache_hash(infra, cache)  # the restarted Redis is empty

    rebuilt = run_module("bank_callback", "cache", "rebuild", env=huifu_stack.env("bank_callback"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert cache_hash(infra, cache) == customers_table(infra)
    assert cache_hash(infra, cache)[openid] == cust_id


NETSAVE_SIGNED = ("CmdId", "RespCode", "MerCustId", "UsrCustId", "OrdId", "OrdDate", "TransAmt", "TrxId", "RetUrl",
                  "BgRetUrl", "MerPriv")
REGISTER_SIGNED = ("CmdId", "RespCode", "MerCustId", "UsrId", "UsrCustId", "BgRetUrl", "TrxId", "RetUrl", "MerPriv")


def page_fields(answer: dict) -> dict:
    """The signed fields a browser sees in the page-callback URL of a sandbox answer."""
    return dict(parse_qsl(urlsplit(answer["pageCallbackUrl"]).query, keep_blank_values=True))


def recut(fields: dict, order: tuple, left: str, shift: int) -> dict:
    """Move ``shift`` characters from ``left``'s right neighbour into ``left`` (negative: the other way)."""
    index = order.index(left)
    right = order[index + 1]
    joined, cut = fields[left] + fields[right], len(fields[left]) + shift
    return {**fields, left: joined[:cut], right: joined[cut:]}


def test_recut_page_callback_fields_posted_back_credit_nothing(huifu_stack, infra):
    """The fields of a genuine 100.00 NetSave, as the browser sees them, re-cut and posted to /netsave:
    every re-cut is refused, and the ledger holds the 100.00 once. The same for UserRegister's fields."""
    openid = f"wx{uuid.uuid4().hex[:20]}"
    customer = register(huifu_stack, openid)
    order = netsave(huifu_stack, customer["usrCustId"], "100.00")
    wait_for(lambda: ledger_balance(huifu_stack, infra, openid) == 10000, timeout=40, what="genuine credit")

    callback = huifu_stack.url("bank_callback")
    genuine = page_fields(order)
    recuts = [recut(genuine, NETSAVE_SIGNED, "OrdId", 3), recut(genuine, NETSAVE_SIGNED, "OrdId", 8),
              recut(genuine, NETSAVE_SIGNED, "OrdDate", -2), recut(genuine, NETSAVE_SIGNED, "OrdId", -3),
              recut(genuine, NETSAVE_SIGNED, "TransAmt", 2)]
    for fields in recuts:
        for path in ("/netsave", "/NetSaveCallback"):
            answer = requests.post(f"{callback}{path}", data=fields, allow_redirects=False, timeout=10)
            assert answer.status_code == 400 and "RECV" not in answer.text, answer.text
    profile = page_fields(customer)
    for fields in (recut(profile, REGISTER_SIGNED, "UsrId", 2), recut(profile, REGISTER_SIGNED, "UsrId", -2)):
        answer = requests.post(f"{callback}/register", data=fields, timeout=10)
        assert answer.status_code == 400 and "RECV" not in answer.text, answer.text

    with psycopg.connect(infra.database_url("bank_callback")) as conn:
        rows = conn.execute("select rtrim(ord_id) from bank_netsave where cust_id = %s",
                            (customer["usrCustId"],)).fetchall()
    assert rows == [(order["ordId"],)]
    assert {key: value for key, value in customers_table(infra).items() if value == customer["usrCustId"]} == \
        {openid: customer["usrCustId"]}
    assert ledger_balance(huifu_stack, infra, openid) == 10000  # nothing stored, so nothing more to credit
