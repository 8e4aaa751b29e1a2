"""/metrics: the agent's gauges read the database at scrape time; the notification counter counts outcomes."""
import psycopg
import pytest

from depository_agent import MIGRATIONS_DIR
from depository_agent.bootstrap import create_app
from shared.migrations import drop_database, migrate

from tests.depository_agent.conftest import SERVICE, bank_result, new_request_no, new_user_no, sign_bank_message
from tests.support.metrics import scrape, value


@pytest.fixture
def fresh_db(infra):
    """An empty agent database of its own, so that every gauge has an exact expected value."""
    url = f"{infra.database_url(SERVICE)}_metrics"
    migrate(url, MIGRATIONS_DIR)
    yield url
    drop_database(url)


def _record(conn, request_type: str, status: int = 0, age_seconds: int = 0) -> None:
    amount = None if request_type == "CONSUMER_CREATE" else 100
    service_name = {"CONSUMER_CREATE": "PERSONAL_REGISTER"}.get(request_type, request_type)
    conn.execute(
        "insert into depository_record (request_no, request_type, service_name, object_type, object_id, user_no,"
        " amount, request_status, request_data, confirm_date, created_at)"
        " values (%s, %s, %s, 'X', 'x', %s, %s, %s, '{}', case when %s > 0 then now() end,"
        " now() - make_interval(secs => %s))",
        (new_request_no(), request_type, service_name, new_user_no(), amount, status, status, age_seconds))


def _outbox_row(conn, sent: bool, age_seconds: int = 0) -> None:
    conn.execute("insert into outbox (exchange, routing_key, message_id, body, created_at, sent_at)"
                 " values ('x', 'RECHARGE', %s, '{}', now() - make_interval(secs => %s), case when %s then now() end)",
                 (new_request_no(), age_seconds, sent))


def test_gauges_show_the_database_at_scrape_time(infra, fresh_db):
    app = create_app(infra.config(SERVICE, DATABASE_URL=fresh_db))
    client = app.test_client()
    try:
        empty = scrape(client)
        assert value(empty, "depository_agent_records_pending", request_type="RECHARGE") == 0
        assert value(empty, "depository_agent_oldest_pending_age_seconds") == 0
        assert value(empty, "depository_agent_outbox_unsent") == 0
        assert value(empty, "depository_agent_outbox_lag_seconds") == 0
        assert value(empty, "depository_agent_outbox_unroutable") == 0
        assert value(empty, "depository_agent_exceptions_open", kind="CONFLICTING_RESULT") == 0
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            _record(conn, "RECHARGE", age_seconds=120)
            _record(conn, "RECHARGE")
            _record(conn, "WITHDRAW", age_seconds=5)
            _record(conn, "RECHARGE", status=1, age_seconds=900)  # final: not pending, not the oldest
            _outbox_row(conn, sent=False, age_seconds=30)
            _outbox_row(conn, sent=False)
            _outbox_row(conn, sent=False)
            _outbox_row(conn, sent=True, age_seconds=600)
            conn.execute("update outbox set returned = 2 where id = (select min(id) from outbox where sent_at is null)")
            conn.execute("insert into depository_exception (request_no, kind, reason, resolved_at) values"
                         " ('a', 'CONFLICTING_RESULT', 'r', null), ('b', 'COMPENSATION_FAILED', 'r', null),"
                         " ('c', 'COMPENSATION_FAILED', 'r', null), ('d', 'COMPENSATION_FAILED', 'r', now())")
        samples = scrape(client)
    finally:
        app.extensions["depository_agent"].close()
    pending = {t: value(samples, "depository_agent_records_pending", request_type=t)
               for t in ("CONSUMER_CREATE", "RECHARGE", "WITHDRAW")}
    assert pending == {"CONSUMER_CREATE": 0, "RECHARGE": 2, "WITHDRAW": 1}
    assert 120 <= value(samples, "depository_agent_oldest_pending_age_seconds") < 150
    assert value(samples, "depository_agent_outbox_unsent") == 3
    assert 30 <= value(samples, "depository_agent_outbox_lag_seconds") < 60
    assert value(samples, "depository_agent_outbox_unroutable") == 1
    assert value(samples, "depository_agent_exceptions_open", kind="CONFLICTING_RESULT") == 1
    assert value(samples, "depository_agent_exceptions_open", kind="COMPENSATION_FAILED") == 2


def test_notifications_are_counted_by_outcome(make_request, client, notify, infra):
    def counts() -> dict:
        samples = scrape(client)
        return {outcome: samples.get(("depository_agent_notifications_total", frozenset({("outcome", outcome)})), 0)
                for outcome in ("accepted", "duplicate", "anomaly", "refused")}

    before = counts()
    body, _ = make_request("RECHARGE")
    assert notify("RECHARGE", bank_result("RECHARGE", body["requestNo"])).status_code == 200
    assert notify("RECHARGE", bank_result("RECHARGE", body["requestNo"])).status_code == 200
    assert notify("RECHARGE", bank_result("RECHARGE", body["requestNo"], success=False)).status_code == 200
    assert notify("RECHARGE", bank_result("RECHARGE", new_request_no())).status_code == 404
    forged = sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"]),
                               key_file="platform_private.pem")
    assert client.post("/gateway", query_string=forged).status_code == 400
    after = counts()
    assert {outcome: after[outcome] - before[outcome] for outcome in after} == {
        "accepted": 1, "duplicate": 1, "anomaly": 1, "refused": 2}
