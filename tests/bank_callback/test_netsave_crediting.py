"""The crediting worker against the REAL beanpay-ledger (gunicorn): exact sums, once, whatever happens."""
import logging
import threading
import time

import psycopg
import pytest
import requests

from shared.errors import NotFound

from bank_callback.repository import netsaves
from tests.bank_callback.huifu_messages import netsave_fields, register_fields
from tests.bank_callback.operator_commands import run_command
from tests.support.processes import free_port


@pytest.fixture
def customer(client, sign_register):
    fields = register_fields()
    assert client.post("/register", data=sign_register(fields)).status_code == 200
    return fields


@pytest.fixture
def save(client, sign_netsave):
    """``save(cust_id, amount, **fields)`` posts a signed NetSave callback and returns its fields."""
    def post(cust_id, amount="100.00", **overrides):
        fields = netsave_fields(cust_id, amount, **overrides)
        assert client.post("/netsave", data=sign_netsave(fields)).status_code == 200
        return fields
    return post


def _balance(ledger, eid) -> int:
    return ledger.balance(eid)["balance"]


def _records(ledger_url, infra, eid) -> list[dict]:
    response = requests.get(f"{ledger_url}/account/record/query", params={"eid": eid, "ps": 100},
                            headers={"Authorization": f"Bearer {infra.internal_token}"}, timeout=5)
    return response.json()["data"]


def _open_rows(db) -> int:
    return db.execute("select count(*) from bank_netsave where not done").fetchone()[0]


def test_credits_the_exact_sum_once_even_when_run_twice(make_crediter, customer, save, ledger, ledger_url,
                                                        infra, db):
    openid = customer["UsrId"]
    saved = [save(customer["UsrCustId"], amount) for amount in ("100.00", "0.01", "1234.56")]
    save(customer["UsrCustId"], "50.00", RespCode="999", RespDesc="失败")
    crediter = make_crediter(CREDIT_BATCH_SIZE=2)
    first = crediter.run_once()
    assert (first.credited, first.closed_failed, first.waiting, first.ledger_down) == (3, 1, [], False)
    second = crediter.run_once()
    assert (second.credited, second.closed_failed) == (0, 0)
    assert _balance(ledger, openid) == 10000 + 1 + 123456
    records = _records(ledger_url, infra, openid)
    assert sorted(record["trade_no"] for record in records) == sorted(fields["OrdId"] for fields in saved)
    assert _open_rows(db) == 0


def test_concurrent_crediters_never_credit_a_row_twice(make_crediter, customer, save, ledger, ledger_url, infra):
    for index in range(24):
        save(customer["UsrCustId"], f"{index + 1}.00")
    crediters = [make_crediter(CREDIT_BATCH_SIZE=3) for _ in range(3)]
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(c.run_once())) for c in crediters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(result.credited for result in results) == 24
    assert _balance(ledger, customer["UsrId"]) == sum(range(1, 25)) * 100
    assert len(_records(ledger_url, infra, customer["UsrId"])) == 24


def test_crash_between_ledger_and_commit_is_repaired_without_double_credit(make_crediter, customer, save, ledger,
                                                                          monkeypatch, db):
    save(customer["UsrCustId"], "88.88")
    crediter = make_crediter()

    def crash(conn, netsave_id):
        raise RuntimeError("process died before commit")

    with monkeypatch.context() as patch:
        patch.setattr(netsaves, "mark_done", crash)
        with pytest.raises(RuntimeError):
            crediter.run_once()
    assert _balance(ledger, customer["UsrId"]) == 8888  # the ledger has it ...
    assert _open_rows(db) == 1  # ... but the row was rolled back
    assert crediter.run_once().credited == 1  # the replay answers 201: nothing added twice
    assert _balance(ledger, customer["UsrId"]) == 8888
    assert _open_rows(db) == 0


def test_ledger_down_delays_and_loses_nothing(make_crediter, customer, save, ledger, db):
    save(customer["UsrCustId"], "10.00")
    down = make_crediter(LEDGER_URL=f"http://127.0.0.1:{free_port()}", LEDGER_TIMEOUT_MS=500)
    result = down.run_once()
    assert result.ledger_down and result.credited == 0
    assert _open_rows(db) == 1
    assert make_crediter().run_once().credited == 1
    assert _balance(ledger, customer["UsrId"]) == 1000


def test_unknown_customer_waits_is_reported_then_credited_after_register(make_crediter, client, sign_register,
                                                                       save, ledger, infra, caplog, db):
    fields = register_fields()
    saving = save(fields["UsrCustId"], "66.00")
    crediter = make_crediter(PENDING_REPORT_SECONDS=3600)
    with caplog.at_level(logging.WARNING, logger="bank_callback.crediting"):
        assert crediter.run_once().waiting == [saving["OrdId"]]
        assert crediter.run_once().waiting == [saving["OrdId"]]
    warnings = [r for r in caplog.records if "unknown bank customer" in r.getMessage()]
    assert len(warnings) == 1  # once per row per interval
    assert _open_rows(db) == 1

    pending = run_command(infra, "netsave", "pending")
    assert pending.returncode == 1
    assert saving["OrdId"] in pending.stdout and "unknown customer" in pending.stdout

    assert client.post("/register", data=sign_register(fields)).status_code == 200
    result = crediter.run_once()
    assert (result.credited, result.waiting) == (1, [])
    assert _balance(ledger, fields["UsrId"]) == 6600
    assert run_command(infra, "netsave", "pending").returncode == 0


def test_worker_process_credits_and_exits_cleanly_on_sigterm(procs, infra, ledger_url, customer, save, ledger):
    worker = procs.worker("bank_callback.workers.netsave_crediter",
                          infra.service_env("bank_callback", LEDGER_URL=ledger_url, CREDIT_POLL_MS=100))
    save(customer["UsrCustId"], "12.34")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if _balance(ledger, customer["UsrId"]) == 1234:
                break
        except NotFound:  # the wallet is opened by the first credit
            pass
        time.sleep(0.1)
    assert _balance(ledger, customer["UsrId"]) == 1234
    worker.stop(timeout=5)
    assert worker.popen.returncode == 0, worker.log_tail()


def test_ledger_refusal_keeps_the_row_open_without_blocking_others(make_crediter, customer, save, ledger, db):
    clashing = save(customer["UsrCustId"], "5.00")
    ledger.create_account(customer["UsrId"], customer["UsrId"])
    ledger.add(customer["UsrId"], clashing["OrdId"], 999)  # the trade_no already exists with another amount
    save(customer["UsrCustId"], "7.00")
    result = make_crediter(CREDIT_BATCH_SIZE=1).run_once()
    assert (result.credited, result.postponed) == (1, 1)
    assert _balance(ledger, customer["UsrId"]) == 999 + 700
    still_open = db.execute("select rtrim(ord_id) from bank_netsave where not done").fetchall()
    assert still_open == [(clashing["OrdId"],)]


def test_the_ledger_is_called_with_no_transaction_open_and_the_row_claimed(make_crediter, customer, save, ledger,
                                                                          monkeypatch, db):
    """While a recharge is posted to the ledger its row is not locked and the crediter's session has no
    transaction open, yet a second crediter passes the row by: the claim is the session's, not a row lock."""
    saving = save(customer["UsrCustId"], "3.00")
    crediter = make_crediter()
    during = {}

    def add(eid, trade_no, amount):
        during["states"] = {row[0] for row in db.execute(
            "select state from pg_stat_activity where application_name = 'test-crediter'"
            " and datname = current_database()")}
        # Raises if the row is locked: nothing waits on a slow ledger.
        db.execute("select 1 from bank_netsave where ord_id = %s for update nowait", (trade_no,))
        during["other"] = make_crediter().run_once()
        return real_add(eid, trade_no, amount)

    real_add = crediter.ledger.add
    monkeypatch.setattr(crediter.ledger, "add", add)
    assert crediter.run_once().credited == 1
    assert during["states"] == {"idle"}
    assert (during["other"].credited, during["other"].ledger_down) == (0, False)
    assert _balance(ledger, customer["UsrId"]) == 300
    assert db.execute("select done from bank_netsave where ord_id = %s", (saving["OrdId"],)).fetchone() == (True,)


def test_a_crediter_whose_session_dies_mid_pass_leaves_its_rows_to_the_next(make_crediter, customer, save, ledger,
                                                                          monkeypatch, db):
    """The session ends (the database restarts it, or the process dies) after the posting and before the
    commit: its claims end with it, and another crediter credits the row, once."""
    save(customer["UsrCustId"], "4.00")
    dying = make_crediter()

    def add(eid, trade_no, amount):
        answer = real_add(eid, trade_no, amount)
        db.execute("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'test-crediter'"
                   " and datname = current_database()")
        return answer

    real_add = dying.ledger.add
    monkeypatch.setattr(dying.ledger, "add", add)
    with pytest.raises(psycopg.OperationalError):
        dying.run_once()
    assert _open_rows(db) == 1
    assert make_crediter().run_once().credited == 1
    assert _balance(ledger, customer["UsrId"]) == 400
    assert _open_rows(db) == 0
