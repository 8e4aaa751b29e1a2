"""lending as a service: health, readiness, its OpenAPI document and routes, /metrics, the internal loans
read, and its refusal to start without the partner's secret."""
from shared.contract import PARTNER_CALLS, PARTNER_PATH_PREFIX
from tests.lending.conftest import disbursed_loan
from tests.support.metrics import scrape, value
from tests.support.processes import run_module


def test_health_readiness_and_the_openapi_document(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ok"}
    document = client.get("/openapi.json").get_json()
    paths = document["paths"]
    for name in PARTNER_CALLS:
        operation = paths[PARTNER_PATH_PREFIX + name]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Envelope"}, name
        assert operation["x-bizData"]["$ref"].split("/")[-1] in document["components"]["schemas"], name
    assert "get" in paths["/internal/loans"]
    envelope = document["components"]["schemas"]["Envelope"]
    assert envelope["properties"]["appId"]["enum"] == ["rongshu"] and envelope["additionalProperties"] is False
    assert client.get("/docs").status_code == 200


def test_the_partner_routes_are_exactly_the_contracts_calls(client):
    """shared.contract names the calls the partner makes; lending's routes are written out with those paths."""
    routes = {rule.rule for rule in client.application.url_map.iter_rules()
              if rule.rule.startswith(PARTNER_PATH_PREFIX)}
    assert routes == {PARTNER_PATH_PREFIX + name for name in PARTNER_CALLS}


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


def test_lending_refuses_to_start_without_the_partners_secret(tmp_path, lending_env):
    env = {**lending_env, "KEYS_DIR": str(tmp_path), "RONGSHU_SECRET": ""}
    started = run_module("lending.workers.disburse", env=env, timeout=30)
    assert started.returncode != 0 and "RONGSHU_SECRET" in started.stderr
