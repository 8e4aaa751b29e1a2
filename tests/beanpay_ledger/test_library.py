"""The ledger as a library (README.md, "Two ways to use the ledger"): the migrate command creates its tables and
functions in a program's own database, and the use cases work on the program's connection, inside its
transactions, with the service's invariants and answers."""
import os
import re
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest

from beanpay_ledger import MIGRATIONS_DIR, SQL_DIR, accounts, packages, postings
from shared.errors import BadRequest, Conflict, Locked, NotFound, Unprocessable
from shared.migrations import drop_database, ensure_database, migrate
from tests.beanpay_ledger.invariants import assert_invariants

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shop(infra):
    """A program's own database, with a table of its own, into which the ledger is migrated by its command."""
    url = infra.database_url("ledger_library_shop")
    drop_database(url)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}", "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "beanpay_ledger", "migrate", "--database-url", url], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6 migration(s) applied" in done.stdout
    yield url
    drop_database(url)


def _readme_example() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Two ways to use the ledger", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_and_its_rolled_back_deduct_left_nothing(shop, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", shop)
    for _ in range(2):  # a second run replays what the first posted
        exec(compile(_readme_example(), "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "10000", "904 insufficient balance: eid USR_1, trade_no order-1003"] * 2
    with psycopg.connect(shop, autocommit=True) as conn:
        trades = conn.execute("select r.trade_no, r.amount from account_record r join account a using (account_id)"
                              " where a.eid = 'USR_1'").fetchall()
        assert trades == [("order-1001", 10_000)]  # the deduct of order-1002 went with its transaction
        assert conn.execute("select order_no from orders").fetchall() == [("order-1001",)]
        assert_invariants(conn)


def test_use_cases_answer_as_the_api(shop):
    with psycopg.connect(shop, autocommit=True) as conn:
        opened = accounts.open_account(conn, "lib_a", "A", credit=100)
        assert (opened.status, opened.json()["credit"]) == (200, 100)
        assert accounts.open_account(conn, "lib_a", "other").status == 201
        added = postings.add(conn, "lib_a", "t1", 500)
        assert (added.new, added.json()["balance"]) == (True, 500)
        replay = postings.add(conn, "lib_a", "t1", 500)
        assert (replay.new, replay.body) == (False, added.body)
        with pytest.raises(Conflict) as conflict:
            postings.add(conn, "lib_a", "t1", 501)
        assert conflict.value.code == 909
        assert postings.deduct(conn, "lib_a", "d1", 600).json()["balance"] == -100
        with pytest.raises(Unprocessable):
            postings.deduct(conn, "lib_a", "d2", 1)
        assert postings.refund(conn, "lib_a", "d1", 600).json()["balance"] == 500
        with pytest.raises(NotFound):
            postings.refund(conn, "lib_a", "nothing", 1)
        assert postings.release(conn, "lib_a", "held", 7).json()["released"] == "void"
        with pytest.raises(Conflict) as released:
            postings.deduct(conn, "lib_a", "held", 7)
        assert released.value.code == 911
        with pytest.raises(BadRequest, match="amount: must be between 1 and"):
            postings.add(conn, "lib_a", "t2", 0)
        results = postings.batch(conn, [{"op": "add", "eid": "lib_a", "trade_no": "b1", "amount": 5},
                                        {"op": "add", "eid": "lib_a", "trade_no": "b1", "amount": 5}, "x"])
        assert [getattr(result, "status") for result in results] == [200, 201, 400]
        assert accounts.lock(conn, "lib_a").json()["status"] == "locked"
        with pytest.raises(Locked):
            postings.add(conn, "lib_a", "t3", 1)
        accounts.unlock(conn, "lib_a")
        assert accounts.records(conn, "lib_a", change_type=2).json()["count"] == 1
        assert accounts.balance(conn, "lib_a").json()["balance"] == 505

        assert packages.open_package(conn, "lib_a", "pk", "P", 3, expires=date(2099, 1, 1),
                                     daily=2).status == 200
        assert packages.deduct(conn, "lib_a", "pk", "u1", 2).json()["remain"] == 1
        with pytest.raises(Unprocessable, match="daily capacity limit"):
            packages.deduct(conn, "lib_a", "pk", "u2", 1)
        assert packages.refund(conn, "lib_a", "pk", "u1", 2).json()["remain"] == 3
        assert packages.capacity(conn, "lib_a", "pk").json()["total_remain"] == 3
        assert packages.records(conn, "lib_a", "pk").json()["count"] == 3
        assert_invariants(conn)


def test_a_callers_transaction_holds_the_account_until_it_ends(shop):
    """Two programs posting to one account take turns: the second waits for the first's commit and then sees its
    posting, so balance + credit >= 0 holds across their transactions."""
    with psycopg.connect(shop, autocommit=True) as setup:
        accounts.open_account(setup, "lib_turns", "T")
        postings.add(setup, "lib_turns", "fund", 100)
    second_answer = []
    with psycopg.connect(shop) as first, psycopg.connect(shop) as second:
        with first.transaction():
            postings.deduct(first, "lib_turns", "first", 80)

            def deduct_again():
                try:
                    with second.transaction():
                        second_answer.append(postings.deduct(second, "lib_turns", "second", 80))
                except Unprocessable as refused:
                    second_answer.append(refused)

            waiting = threading.Thread(target=deduct_again)
            waiting.start()
            time.sleep(0.5)
            assert second_answer == []  # still waiting for the first transaction
        waiting.join(10)
    assert isinstance(second_answer[0], Unprocessable)  # it saw the first deduct: 20 left
    with psycopg.connect(shop, autocommit=True) as conn:
        assert accounts.balance(conn, "lib_turns").json()["balance"] == 20
        assert_invariants(conn)


def test_the_ledger_in_a_schema_of_its_own_beside_a_programs_tables(infra):
    """A program whose own table is called ``account`` keeps the ledger in a schema (search_path in the URL)."""
    base = infra.database_url("ledger_library_schema")
    drop_database(base)
    ensure_database(base)
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("create schema ledger")
            conn.execute("create table account (customer text primary key)")  # the program's own
        url = base + "?options=-csearch_path%3Dledger"
        assert len(migrate(url, MIGRATIONS_DIR, SQL_DIR)) == 6
        with psycopg.connect(url, autocommit=True) as conn:
            accounts.open_account(conn, "lib_s", "S")
            assert postings.add(conn, "lib_s", "t", 5).json()["balance"] == 5
        with psycopg.connect(base, autocommit=True) as conn:
            assert conn.execute("select count(*) from ledger.account_record").fetchone() == (1,)
            assert conn.execute("select count(*) from public.account").fetchone() == (0,)
    finally:
        drop_database(base)
