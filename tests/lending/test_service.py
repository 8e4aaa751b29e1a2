"""lending as a service: health, readiness, its OpenAPI document, /metrics, the internal loans read,
the rules of the credit engine, and the operator commands."""
from datetime import date

import pytest

from shared.contract import CONFIRM_LOAN, RESP_AMOUNTS_DIFFER
from tests.lending.conftest import borrow_of, borrow_with_open_account, disburse, disbursed_loan, id_number
from tests.support.metrics import scrape, value
from tests.support.processes import run_module

from lending import credit_engine
from lending.credit_engine import CreditRules, age_on, check_character, id_number_problem


def test_health_readiness_and_the_openapi_document(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ok"}
    paths = client.get("/openapi.json").get_json()["paths"]
    for name in ("user/filter", "loan/trial", "agreements", "order/push", "audit/result", "banks", "card/bind",
                 "loan/confirm", "loan/result", "repay/plan", "repay/trial", "repay", "repay/result"):
        assert "post" in paths[f"/rongshu/{name}"], name
    assert "get" in paths["/internal/loans"]
    assert client.get("/docs").status_code == 200


def test_metrics_count_orders_borrows_money_and_backlogs(deps, partner, users, client, db):
    order_no, _ = disbursed_loan(deps, partner, users, amount=700_000)
    samples = scrape(client, "lending_")
    counts = {row["status"]: row["n"]
              for row in db.execute("select status, count(*) as n from borrows group by status")}
    assert value(samples, "lending_borrows", status="30") == counts[30]
    assert value(samples, "lending_disbursements") >= 1 and value(samples, "lending_disbursed_fen") >= 700_000
    pending = db.execute("select count(*) as n from partner_callbacks where status = 0").fetchone()["n"]
    assert value(samples, "lending_callbacks_pending") == pending
    for name in ("lending_orders", "lending_repayments", "lending_overdue_periods", "lending_overdue_penalty_fen",
                 "lending_depository_calls_pending", "lending_ledger_postings_pending", "lending_anomalies"):
        assert any(key[0] == name for key in samples), name


def test_the_internal_loans_read_needs_the_service_token(deps, partner, users, client, lending_infra):
    order_no, borrower = disbursed_loan(deps, partner, users, amount=400_000, term=3)
    assert client.get(f"/internal/loans?userNo={borrower}").status_code == 401
    headers = {"Authorization": f"Bearer {lending_infra.internal_token}"}
    assert client.get("/internal/loans?userNo=x", headers=headers).status_code == 400
    [loan] = client.get(f"/internal/loans?userNo={borrower}", headers=headers).get_json()["loans"]
    assert loan["orderNo"] == order_no and loan["status"] == 30 and loan["annualRate"] == "0.18"
    assert sum(line["principal"] for line in loan["plans"]) == 400_000


@pytest.mark.parametrize("first17", ["11010519491231002", "44052418800101001", "51343620000320432"])
def test_the_check_digit_is_gb_11643(first17):
    """Published examples and the weights: sum(a_i * w_i) mod 11 indexes 1 0 X 9 8 7 6 5 4 3 2."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    expected = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]
    assert check_character(first17) == expected
    assert id_number_problem(first17 + expected) is None
    assert check_character("11010519491231002") == "X"


def test_the_credit_rules(deps):
    rules = CreditRules(20, 55, 100_000, 20_000_000, 3, 24, frozenset({"110105199001010011"}), frozenset())
    today = date(2026, 6, 15)
    ok = {"idNumber": id_number(date(1990, 6, 15)), "mobile": "13800138000", "loanAmount": 100_000, "loanTerm": 3}
    assert credit_engine.decide_credit(rules, today, {"orderNo": "A", **ok}) == {
        "orderNo": "A", "approved": True, "reasons": [], "approvedAmount": 100_000}
    assert age_on(id_number(date(2006, 6, 15)), today) == 20 and age_on(id_number(date(2006, 6, 16)), today) == 19
    for change in ({"idNumber": id_number(date(2006, 6, 16))}, {"idNumber": id_number(date(1970, 6, 14))},
                   {"loanAmount": 99_999}, {"loanAmount": 20_000_001}, {"loanTerm": 25}, {"mobile": "03800138000"},
                   {"idNumber": "110105199001010011"}, {"idNumber": "11010519900101001X"}):
        decision = credit_engine.decide_credit(rules, today, {"orderNo": "B", **ok, **change})
        assert decision["approved"] is False and decision["reasons"], change
    strict = CreditRules(**{**rules.__dict__, "review_blacklist": frozenset({ok["idNumber"]})})
    assert credit_engine.decide_review(strict, today, {"borrowNo": "C", **ok})["approved"] is False
    assert credit_engine.decide_review(rules, today, {"borrowNo": "C", **ok})["approved"] is True


def test_operator_commands(deps, partner, users, bank, funder, db, lending_env, sandbox):
    order_no, _ = disbursed_loan(deps, partner, users)
    refused = run_module("lending", "borrows", "reject", borrow_of(db, order_no)["borrow_no"], env=lending_env)
    assert refused.returncode == 1 and "only 10, 20 and 31" in refused.stdout
    failing, _ = borrow_with_open_account(deps, partner, users)
    bank.faults.refuse_next(CONFIRM_LOAN, RESP_AMOUNTS_DIFFER, borrow_of(db, failing)["project_no"])
    disburse(deps)
    assert borrow_of(db, failing)["status"] == 31
    rejected = run_module("lending", "borrows", "reject", failing, "--reason", "the funder withdrew", env=lending_env)
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    assert borrow_of(db, failing)["status"] == 27 and bank.balance(funder).frozen == 0
    assert partner.ok("loan/result", {"orderNo": failing}) == {"status": 7003, "reason": "the funder withdrew"}
    listed = run_module("lending", "callbacks", "list", env=lending_env)
    assert listed.returncode == 0
    retried = run_module("lending", "callbacks", "retry", env=lending_env)
    assert retried.returncode == 0 and "due now" in retried.stdout
    assert run_module("lending", "anomalies", "list", env=lending_env).returncode == 0
    requeued = run_module("lending", "postings", "retry", env=lending_env)
    assert requeued.returncode == 0 and "queued again" in requeued.stdout
    assert run_module("lending", "migrate", env=lending_env).returncode == 0


def test_keys_writes_the_partners_secret_once(tmp_path, lending_env):
    env = {**lending_env, "KEYS_DIR": str(tmp_path / "keys")}
    made = run_module("lending", "keys", env=env)
    assert made.returncode == 0 and "rongshu_secret" in made.stdout
    secret = (tmp_path / "keys" / "rongshu_secret").read_text()
    again = run_module("lending", "keys", env=env)
    assert "already there" in again.stdout and (tmp_path / "keys" / "rongshu_secret").read_text() == secret


def test_lending_refuses_to_start_without_the_partners_secret(tmp_path, lending_env):
    env = {**lending_env, "KEYS_DIR": str(tmp_path), "RONGSHU_SECRET": ""}
    started = run_module("lending.workers.disburse", env=env, timeout=30)
    assert started.returncode != 0 and "RONGSHU_SECRET" in started.stderr
