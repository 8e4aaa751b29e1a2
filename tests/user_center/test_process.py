"""user-center as deployed: gunicorn serving the WSGI app, and the migrate command."""
import psycopg
import requests

from shared.migrations import drop_database
from tests.support.processes import run_module
from tests.user_center.conftest import new_mobile


def test_gunicorn_serves_the_api_and_the_page(procs, infra, ledger, agent):
    web = procs.web("user_center", infra.service_env("user_center", LEDGER_URL=ledger.url,
                                                     DEPOSITORY_AGENT_URL=agent.url))
    assert requests.get(f"{web.url}/readyz", timeout=5).json() == {"status": "ok"}
    mobile = new_mobile()
    registered = requests.post(f"{web.url}/consumers", json={"mobile": mobile, "password": "long-enough"}, timeout=5)
    assert registered.status_code == 201
    token = requests.post(f"{web.url}/tokens", json={"mobile": mobile, "password": "long-enough"},
                          timeout=5).json()["result"]["access_token"]
    # any process of the stack accepts the token: the secret comes from KEYS_DIR/token_secret
    balance = requests.get(f"{web.url}/my/balances", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert balance.json()["result"]["balance"] == "0.00"
    page = requests.get(f"{web.url}/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"] and "/assets/app.js" in page.text


def test_migrate_command_creates_the_schema(infra):
    url = f"{infra.database_url('user_center')}_cli"
    env = {"DATABASE_URL": url, "KEYS_DIR": infra.keys_dir}
    try:
        first = run_module("user_center", "migrate", env=env)
        assert first.returncode == 0 and "001_user_center" in first.stdout, first.stderr
        again = run_module("user_center", "migrate", env=env)
        assert "0 migration(s) applied" in again.stdout
        with psycopg.connect(url) as conn:
            tables = {row[0] for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'public'")}
        assert {"consumer", "depository_register", "recharge_record", "withdraw_record",
                "gateway_notify_anomaly"} <= tables
    finally:
        drop_database(url)
