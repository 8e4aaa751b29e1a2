"""Daily reconciliation against the whole platform as real processes, with differences injected.

A recharge and a withdraw the bank settled but never managed to notify (the sandbox drops every
attempt) are repaired through the notification path; a user-center record reset to pending is
repaired by re-announcing the result; an amount changed in the bank's books and a record deleted
from the agent's database are reported, and the exit code stays non-zero until they are gone.
"""
import base64
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.e2e.conftest import PlatformUser, bank_balance, set_faults, wait_for
from tests.depository_agent.reconciliation.conftest import reconcile


def request_no(gateway: dict) -> str:
    return json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]


def by_request(rows: list[dict]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        found.setdefault(row["request_no"], []).append((row["category"], row["action"]))
    return found


def db(stack, service: str):
    return psycopg.connect(stack.env(service)["DATABASE_URL"], autocommit=True, row_factory=dict_row)


def ledger_records(stack, user_no: str) -> list[dict]:
    headers = {"Authorization": f"Bearer {stack.infra.internal_token}"}
    return requests.get(f"{stack.url('beanpay_ledger')}/account/record/query", params={"eid": user_no, "ps": 100},
                        headers=headers).json()["data"]


@pytest.fixture(scope="module")
def scenario(stack):
    """One user's day: settled requests, two the platform never heard about, two injected differences."""
    user = PlatformUser(stack)
    user_no = user.open_account()
    callback = {"callbackUrl": f"{user.uc}/#/callback"}

    def request(kind: str, amount: str) -> dict:
        return user.gateway_request(f"/my/{kind}-records", {"amount": amount, **callback})

    settled = request("recharge", "100.00")
    user.confirm(settled)
    mismatched = request("recharge", "20.00")
    user.confirm(mismatched)
    deleted = request("recharge", "1.00")
    user.confirm(deleted)
    wait_for(lambda: user.balance() == "121.00", what="three recharges applied")

    set_faults(stack, dropFirst=100)  # the bank books these; its notifications are dropped for minutes
    lost_recharge = request("recharge", "50.00")
    user.confirm(lost_recharge)
    lost_withdraw = request("withdraw", "30.00")
    user.confirm(lost_withdraw, outcome="fail")
    set_faults(stack)

    pending = request("recharge", "10.00")  # opened at the bank, never confirmed
    assert requests.get(pending["depositoryUrl"], params={k: pending[k] for k in
                                                          ("serviceName", "platformNo", "reqData", "signature")},
                        headers={"Accept": "text/html"}).status_code == 200
    unknown = request("recharge", "5.00")  # never brought to the bank

    with db(stack, "bank_sandbox") as conn:  # the bank's books disagree on one amount
        conn.execute("update bank_transactions set amount = 2100 where request_no = %s", (request_no(mismatched),))
    with db(stack, "depository_agent") as conn:  # and the agent lost one record
        saved = conn.execute("delete from depository_record where request_no = %s returning *",
                             (request_no(deleted),)).fetchone()
    names = {name: request_no(gateway) for name, gateway in (
        ("settled", settled), ("mismatched", mismatched), ("deleted", deleted), ("lost_recharge", lost_recharge),
        ("lost_withdraw", lost_withdraw), ("pending", pending), ("unknown", unknown))}
    return user, user_no, names, saved


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_no_repair_reports_and_changes_nothing(stack, scenario, tmp_path):
    user, user_no, names, _ = scenario
    code, out, err, rows = reconcile(stack, tmp_path, today(), "--no-repair")
    assert code == 1, out + err
    found = by_request(rows)
    assert found[names["lost_recharge"]] == [("NOT_SETTLED", "NOT_REPAIRED")]
    assert found[names["lost_withdraw"]] == [("NOT_SETTLED", "NOT_REPAIRED")]
    assert user.balance() == "91.00"  # 121.00 credited, 30.00 held
    with db(stack, "depository_agent") as conn:
        assert conn.execute("select request_status from depository_record where request_no = %s",
                            (names["lost_recharge"],)).fetchone()["request_status"] == 0


def test_repairs_what_the_bank_confirmed_and_reports_the_rest(stack, scenario, tmp_path):
    user, user_no, names, saved = scenario
    with db(stack, "user_center") as conn:  # user-center "missed" an applied result
        conn.execute("update recharge_record set callback_status = 0 where request_no = %s", (names["settled"],))

    code, out, err, rows = reconcile(stack, tmp_path, today())
    print(err, out, sep="\n")  # shown when the test fails, or with -s
    assert code == 1, out + err
    found = by_request(rows)
    assert found[names["lost_recharge"]] == [("NOT_SETTLED", "REPAIRED")]
    assert found[names["lost_withdraw"]] == [("NOT_SETTLED", "REPAIRED")]
    assert found[names["settled"]] == [("NOT_APPLIED", "REPAIRED")]
    assert found[names["mismatched"]] == [("AMOUNT_MISMATCH", "REPORTED")]
    assert found[names["deleted"]] == [("MISSING_AT_PLATFORM", "REPORTED")]
    assert found[names["pending"]] == [("PENDING_AT_BANK", "NONE")]
    assert found[names["unknown"]] == [("UNKNOWN_AT_BANK", "NONE")]
    assert len(rows) == 7
    mismatch = next(row for row in rows if row["category"] == "AMOUNT_MISMATCH")
    assert mismatch["bank"] == "statement 21.00" and mismatch["agent"].startswith("success 20.00")
    assert "remaining differences: 2" in out and "RESULT: 2 difference(s) remain" in out
    assert "compared" in err  # progress

    # the repairs went the whole way: agent, user-center, ledger and bank agree
    assert user.balance() == "171.00"
    postings = ledger_records(stack, user_no)
    assert sum(p["amount"] for p in postings) == 17100
    assert (3, 3000) in {(p["change_type"], p["amount"]) for p in postings if p["trade_no"] == names["lost_withdraw"]}
    assert bank_balance(stack, user_no) == "171.00"
    statuses = {r["requestNo"]: r["callbackStatus"] for r in user.records("recharge") + user.records("withdraw")}
    assert (statuses[names["lost_recharge"]], statuses[names["lost_withdraw"]], statuses[names["settled"]]) == (1, 2, 1)
    with db(stack, "depository_agent") as conn:
        sources = conn.execute("select request_no, result_source from depository_record where request_no = any(%s)",
                               ([names["lost_recharge"], names["lost_withdraw"]],)).fetchall()
    assert {row["result_source"] for row in sources} == {"QUERY"}

    # with the injected differences undone, the same day reconciles clean: exit 0, notes only
    with db(stack, "bank_sandbox") as conn:
        conn.execute("update bank_transactions set amount = 2000 where request_no = %s", (names["mismatched"],))
    with db(stack, "depository_agent") as conn:
        columns = list(saved)
        conn.execute(f"insert into depository_record ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})",
                     [Jsonb(value) if isinstance(value, dict) else value for value in saved.values()])
    code, out, err, rows = reconcile(stack, tmp_path, today())
    assert code == 0, out + err
    assert {(row["category"], row["kind"]) for row in rows} == {("PENDING_AT_BANK", "info"), ("UNKNOWN_AT_BANK", "info")}
    assert "RESULT: clean" in out
