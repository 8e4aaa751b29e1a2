"""Compensation: stuck requests are settled from the bank's signed answer, expired when the bank
never saw them, and every failure lands in the exception table (and the operator commands)."""
import base64
import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from psycopg.rows import dict_row

from shared.db import create_pool
from shared.migrations import drop_database, migrate
from shared.signing import encode_wanxin, load_key

from depository_agent import MIGRATIONS_DIR, gateway_requests, transactions
from depository_agent.__main__ import main as cli
from depository_agent.bank_client import BankQuery
from depository_agent.compensation import Compensator
from depository_agent.config import load
from depository_agent.notifications import settle
from depository_agent.repository import records
from depository_agent.wanxin import WanxinCodec

from tests.depository_agent.conftest import (
    SERVICE,
    bank_result,
    consumer_body,
    new_request_no,
    new_user_no,
    outbox_of,
    record_of,
    recharge_body,
    sign_bank_message,
    withdraw_body,
)

UNKNOWN = "UNKNOWN"  # a script entry: the bank's signed "unknown" answer about the request queried


class FakeBank:
    """The bank's HTTP side of ``/service/query`` only: scripted answers per requestNo, signed with
    the run's bank key, and a count of the queries it received."""

    def __init__(self, keys_dir: str):
        self.keys_dir = keys_dir
        self.answers: dict[str, list] = {}
        self.hits: dict[str, int] = {}
        bank = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                params = {key: values[0] for key, values in parse_qs(url.query).items()}
                request_no = params.get("requestNo", "")
                bank.hits[request_no] = bank.hits.get(request_no, 0) + 1
                script = bank.answers.get(request_no, [UNKNOWN])
                answer = script.pop(0) if len(script) > 1 else script[0]
                status, body = bank.unknown(request_no) if answer == UNKNOWN else answer
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signed(self, service_name: str, payload: dict, **options) -> tuple[int, dict]:
        return 200, sign_bank_message(self.keys_dir, service_name, payload, **options)

    def unknown(self, request_no: str, key_file: str = "bank_private.pem", **changes) -> tuple[int, dict]:
        """The bank's signed 404 "unknown request" answer (respCode 40004, status 0) about ``request_no``."""
        result = {"requestNo": request_no, "respCode": "40004", "respMsg": "the bank does not know this request",
                  "status": 0, **changes}
        req_data, signature = encode_wanxin(result, load_key(os.path.join(self.keys_dir, key_file)))
        return 404, {"respData": req_data, "signature": signature, "code": 908, "msg": "unknown request"}

    def script(self, request_no: str, *answers) -> None:
        self.answers[request_no] = list(answers)


@pytest.fixture(scope="module")
def bank(infra):
    fake = FakeBank(infra.keys_dir)
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def comp_db(infra):
    """A database of its own: a pass claims every due record, so other tests' records stay out of it."""
    url = infra.database_url("depository_agent_compensation")
    migrate(url, MIGRATIONS_DIR)
    yield url
    drop_database(url)


@pytest.fixture
def config(infra, comp_db, bank):
    return load(infra.config(SERVICE, DATABASE_URL=comp_db, BANK_SANDBOX_URL=bank.url, COMPENSATION_AGE_SECONDS=60,
                             COMPENSATION_EXPIRY_GRACE_SECONDS=0, COMPENSATION_TRY_DELAY_MS=10,
                             EXCEPTION_POLL_SECONDS=0))


@pytest.fixture
def conn(comp_db):
    with psycopg.connect(comp_db, autocommit=True, row_factory=dict_row) as connection:
        connection.execute("truncate depository_record, depository_exception, outbox")
        yield connection


@pytest.fixture
def compensator(config, conn):
    pool = create_pool(config, "test-compensation")
    yield Compensator(pool, WanxinCodec(config), BankQuery(config), config)
    pool.close()


KINDS = {"PERSONAL_REGISTER": (gateway_requests.CONSUMER_CREATE, consumer_body),
         "RECHARGE": (gateway_requests.RECHARGE, recharge_body),
         "WITHDRAW": (gateway_requests.WITHDRAW, withdraw_body)}


@pytest.fixture
def stuck(compensator, conn):
    """A request recorded ``age`` seconds ago and never notified, whose expired passed ``past_expiry``
    seconds ago (negative: still to come)."""

    def make(service_name: str = "RECHARGE", age: int = 120, past_expiry: float = -1800) -> dict:
        kind, build = KINDS[service_name]
        body = build()
        gateway_requests.create_gateway_request(compensator.pool, compensator.codec, kind, body, 10**8, 1800)
        conn.execute("update depository_record set created_at = now() - make_interval(secs => %s),"
                     " expires_at = now() - make_interval(secs => %s) where request_no = %s",
                     (age, past_expiry, body["requestNo"]))
        return body

    return make


def record_for_check(compensator, request_no: str) -> dict:
    with compensator.pool.connection() as pooled:
        return records.get_for_check(pooled, request_no)


def open_exceptions(conn, request_no: str) -> list[dict]:
    return conn.execute("select * from depository_exception where request_no = %s and resolved_at is null",
                        (request_no,)).fetchall()


def test_stuck_record_is_settled_from_the_bank_answer(compensator, stuck, bank, conn):
    body = stuck("RECHARGE")
    result = bank_result("RECHARGE", body["requestNo"])
    bank.script(body["requestNo"], bank.signed("RECHARGE", result))
    assert compensator.run_pass() == {"SETTLED": 1}
    record = record_of(conn, body["requestNo"])
    assert (record["request_status"], record["result_source"], record["response_data"]) == (1, "QUERY", result)
    [row] = outbox_of(conn, body["requestNo"])
    assert json.loads(row["body"]) == {**result, "serviceName": "RECHARGE"}
    assert row["message_id"] == f"RECHARGE:{body['requestNo']}"
    assert compensator.run_pass() == {}


def test_young_records_are_not_queried(compensator, stuck, bank, conn):
    body = stuck("RECHARGE", age=5)
    assert compensator.run_pass() == {}
    assert bank.hits.get(body["requestNo"]) is None


def test_request_pending_at_the_bank_stays_pending_and_is_not_queried_again_at_once(compensator, stuck, bank, conn):
    body = stuck("WITHDRAW")
    pending = {**bank_result("WITHDRAW", body["requestNo"], success=False, amount="50.00"), "status": 0}
    bank.script(body["requestNo"], bank.signed("WITHDRAW", pending))
    assert compensator.run_pass() == {"PENDING": 1}
    assert compensator.run_pass() == {}
    assert bank.hits[body["requestNo"]] == 1
    record = record_of(conn, body["requestNo"])
    assert record["request_status"] == 0 and record["next_check_at"] is not None
    assert outbox_of(conn, body["requestNo"]) == []


def test_unknown_at_the_bank_waits_for_its_expired_then_fails(compensator, stuck, bank, conn):
    young = stuck("WITHDRAW", age=7200, past_expiry=-1)  # however old: one second before its expired
    old = stuck("WITHDRAW", age=120, past_expiry=1)      # one second after
    assert compensator.run_pass() == {"UNKNOWN": 1, "EXPIRED": 1}
    assert record_of(conn, young["requestNo"])["request_status"] == 0
    assert outbox_of(conn, young["requestNo"]) == []
    record = record_of(conn, old["requestNo"])
    assert (record["request_status"], record["result_source"]) == (2, "EXPIRED")
    [row] = outbox_of(conn, old["requestNo"])
    assert json.loads(row["body"]) == {"requestNo": old["requestNo"], "respCode": "EXPIRED",
                                       "respMsg": "the bank never received this request", "status": 2,
                                       "transactionStatus": "FAIL", "amount": "50.00", "serviceName": "WITHDRAW"}


def test_the_grace_after_expired_is_waited_for_too(compensator, stuck, bank, config, conn):
    body = stuck("RECHARGE", past_expiry=30)
    compensator.grace = 60  # COMPENSATION_EXPIRY_GRACE_SECONDS: the bank's clock may lag ours
    assert compensator.run_pass() == {"UNKNOWN": 1}
    assert record_of(conn, body["requestNo"])["request_status"] == 0


def test_expired_register_has_no_amount(compensator, stuck, conn):
    body = stuck("PERSONAL_REGISTER", age=700, past_expiry=100)
    assert compensator.run_pass() == {"EXPIRED": 1}
    message = json.loads(outbox_of(conn, body["requestNo"])[0]["body"])
    assert message["status"] == 2 and "amount" not in message and message["serviceName"] == "PERSONAL_REGISTER"


def test_a_transient_bank_error_is_retried_quickly(compensator, stuck, bank, conn):
    body = stuck("RECHARGE")
    bank.script(body["requestNo"], (503, {"msg": "busy"}), (502, b"<html>bad gateway</html>"),
                bank.signed("RECHARGE", bank_result("RECHARGE", body["requestNo"])))
    assert compensator.run_pass() == {"SETTLED": 1}
    assert bank.hits[body["requestNo"]] == 3
    assert conn.execute("select count(*) as n from depository_exception").fetchone()["n"] == 0


def test_three_failed_tries_open_an_exception_retried_until_it_settles(compensator, stuck, bank, conn):
    body = stuck("RECHARGE")
    bank.script(body["requestNo"], (500, {"msg": "down"}))
    assert compensator.run_pass() == {"EXCEPTION": 1}
    assert bank.hits[body["requestNo"]] == 3
    [exception] = open_exceptions(conn, body["requestNo"])
    assert exception["kind"] == "COMPENSATION_FAILED" and "500" in exception["reason"]
    assert record_of(conn, body["requestNo"])["request_status"] == 0
    conn.execute("update depository_record set next_check_at = null")
    assert compensator.run_pass() == {}                     # the exception poll owns it now
    assert compensator.retry_exceptions() == {"EXCEPTION": 1}
    assert open_exceptions(conn, body["requestNo"])[0]["attempts"] == 2
    bank.script(body["requestNo"], bank.signed("RECHARGE", bank_result("RECHARGE", body["requestNo"])))
    assert compensator.retry_exceptions() == {"SETTLED": 1}
    assert open_exceptions(conn, body["requestNo"]) == []
    assert record_of(conn, body["requestNo"])["request_status"] == 1


@pytest.mark.parametrize("case", ["bare 404 908", "unknown signed by another key", "unknown about another request",
                                  "unknown that is not 40004", "unknown with status 1", "unknown re-encoded",
                                  "forged", "wrong amount", "another platform", "404 without the unknown code",
                                  "404 with another code", "200 that is not a signed answer", "silence",
                                  "about another request", "another service", "amount as a number",
                                  "status as a word"])
def test_a_bad_bank_answer_opens_an_exception_and_changes_nothing(compensator, stuck, bank, conn, case):
    body = stuck("RECHARGE", age=700, past_expiry=100)
    result = bank_result("RECHARGE", body["requestNo"])
    unknown = bank.unknown(body["requestNo"])[1]
    answers = {
        "bare 404 908": (404, {"code": 908, "msg": "unknown request"}),
        "unknown signed by another key": bank.unknown(body["requestNo"], key_file="platform_private.pem"),
        "unknown about another request": bank.unknown(stuck("RECHARGE")["requestNo"]),
        "unknown that is not 40004": bank.unknown(body["requestNo"], respCode="10000"),
        "unknown with status 1": bank.unknown(body["requestNo"], status=1),
        "unknown re-encoded": (404, {**unknown, "respData": base64.b64encode(json.dumps(
            json.loads(base64.b64decode(unknown["respData"])), indent=1).encode()).decode()}),
        "forged": bank.signed("RECHARGE", result, key_file="platform_private.pem"),
        "wrong amount": bank.signed("RECHARGE", {**result, "amount": "1.00"}),
        "another platform": bank.signed("RECHARGE", result, platform_no="OTHERP2P"),
        "404 without the unknown code": (404, b"<html>not found</html>"),
        "404 with another code": (404, {"code": 404, "msg": "no such route"}),
        "200 that is not a signed answer": (200, {"code": 908, "msg": "unknown request"}),
        "silence": (200, b""),
        "about another request": bank.signed("RECHARGE", {**result, "requestNo": stuck("RECHARGE")["requestNo"]}),
        "another service": bank.signed("WITHDRAW", result),
        "amount as a number": bank.signed("RECHARGE", {**result, "amount": 100}),
        "status as a word": bank.signed("RECHARGE", {**result, "status": "SUCCESS"}),
    }
    bank.script(body["requestNo"], answers[case])
    before = record_of(conn, body["requestNo"])
    assert compensator.check(record_for_check(compensator, body["requestNo"])) == "EXCEPTION"
    after = record_of(conn, body["requestNo"])
    assert after["request_status"] == 0 and after["response_data"] is None
    assert after["created_at"] == before["created_at"]
    assert outbox_of(conn, body["requestNo"]) == []
    assert len(open_exceptions(conn, body["requestNo"])) == 1


def test_a_notification_after_compensation_is_a_duplicate(compensator, stuck, bank, conn):
    body = stuck("RECHARGE")
    result = bank_result("RECHARGE", body["requestNo"])
    bank.script(body["requestNo"], bank.signed("RECHARGE", result))
    compensator.run_pass()
    with compensator.pool.connection() as pooled, pooled.transaction():
        assert settle(pooled, "RECHARGE", result, "NOTIFICATION") == "DUPLICATE"
    assert len(outbox_of(conn, body["requestNo"])) == 1


@pytest.fixture
def cli_env(monkeypatch, infra, config):
    """The operator CLI's environment; the root log handlers it replaces are restored afterwards."""
    for key, value in infra.service_env(SERVICE, DATABASE_URL=config["DATABASE_URL"], BANK_SANDBOX_URL=config[
            "BANK_SANDBOX_URL"], COMPENSATION_TRY_DELAY_MS=10).items():
        monkeypatch.setenv(key, value)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_operator_commands(cli_env, compensator, stuck, bank, conn, capsys):
    body = stuck("RECHARGE")
    bank.script(body["requestNo"], (500, {"msg": "down"}))
    compensator.run_pass()
    [exception] = open_exceptions(conn, body["requestNo"])
    assert cli(["exceptions", "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["id"], row["request_no"], row["kind"]) for row in listed] == [
        (exception["id"], body["requestNo"], "COMPENSATION_FAILED")]
    assert cli(["exceptions", "retry", str(exception["id"])]) == 0
    assert "EXCEPTION" in capsys.readouterr().out
    bank.script(body["requestNo"], bank.signed("RECHARGE", bank_result("RECHARGE", body["requestNo"])))
    assert cli(["exceptions", "retry", str(exception["id"])]) == 0
    assert "SETTLED" in capsys.readouterr().out
    assert record_of(conn, body["requestNo"])["request_status"] == 1
    assert cli(["exceptions", "retry", str(exception["id"])]) == 1
    assert "already resolved" in capsys.readouterr().out

    with compensator.pool.connection() as pooled, pooled.transaction():
        settle(pooled, "RECHARGE", bank_result("RECHARGE", body["requestNo"], success=False), "NOTIFICATION")
    [anomaly] = open_exceptions(conn, body["requestNo"])
    assert cli(["exceptions", "retry", str(anomaly["id"])]) == 1
    assert "never applied" in capsys.readouterr().out
    assert cli(["exceptions", "resolve", str(anomaly["id"]), "--note", "bank confirmed success"]) == 0
    assert open_exceptions(conn, body["requestNo"]) == []
    assert cli(["exceptions", "resolve", str(anomaly["id"])]) == 1
    assert "already resolved" in capsys.readouterr().out
    assert cli(["exceptions", "list", "--all"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_compensation_worker_process_settles_stuck_records(procs, infra, config, stuck, bank, conn):
    body = stuck("WITHDRAW")
    bank.script(body["requestNo"], bank.signed("WITHDRAW", bank_result("WITHDRAW", body["requestNo"], amount="50.00")))
    worker = procs.worker("depository_agent.workers.compensation", infra.service_env(
        SERVICE, DATABASE_URL=config["DATABASE_URL"], BANK_SANDBOX_URL=bank.url, COMPENSATION_AGE_SECONDS=60,
        COMPENSATION_POLL_SECONDS=1))
    deadline = time.monotonic() + 15
    while record_of(conn, body["requestNo"])["request_status"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert record_of(conn, body["requestNo"])["request_status"] == 1, worker.log_tail()
    worker.stop()
    assert worker.popen.returncode == 0, worker.log_tail()


def test_a_transaction_service_is_settled_from_the_query_or_failed_on_the_signed_unknown_only(
        compensator, bank, conn):
    """CONFIRM_LOAN and USER_AUTO_PRE_TRANSACTION records: settled from the bank's query like a recharge; once
    expired, failed with the agent's result (no amount fields) only on the bank's signed unknown answer."""
    bodies = {}
    for name, service, body in (
            ("loan", "CONFIRM_LOAN", {"requestNo": new_request_no(), "projectNo": "PRJ_1", "commission": "1.00",
                                      "details": [{"preRequestNo": new_request_no(), "amount": "10.00"}]}),
            ("freeze", "USER_AUTO_PRE_TRANSACTION", {"requestNo": new_request_no(), "userNo": new_user_no(),
                                                     "amount": "5.00", "bizType": "TENDER", "projectNo": "PRJ_1"}),
            ("bare", "CONFIRM_LOAN", {"requestNo": new_request_no(), "projectNo": "PRJ_2", "commission": "0.00",
                                      "details": [{"preRequestNo": new_request_no(), "amount": "10.00"}]})):
        gateway_requests.record_request(compensator.pool, transactions.build_record(service, body, 10**8), 1800)
        conn.execute("update depository_record set created_at = now() - interval '700 seconds',"
                     " expires_at = now() - interval '100 seconds' where request_no = %s", (body["requestNo"],))
        bodies[name] = body
    result = {"requestNo": bodies["freeze"]["requestNo"], "respCode": "30042", "respMsg": "insufficient", "status": 2}
    bank.script(bodies["freeze"]["requestNo"], bank.signed("USER_AUTO_PRE_TRANSACTION", result))
    bank.script(bodies["bare"]["requestNo"], (404, {"code": 908, "msg": "unknown request"}))
    assert compensator.run_pass() == {"EXPIRED": 1, "SETTLED": 1, "EXCEPTION": 1}
    [loan] = outbox_of(conn, bodies["loan"]["requestNo"])
    assert json.loads(loan["body"]) == {"requestNo": bodies["loan"]["requestNo"], "respCode": "EXPIRED",
                                        "respMsg": "the bank never received this request", "status": 2,
                                        "serviceName": "CONFIRM_LOAN"}
    assert (loan["routing_key"], loan["message_id"]) == ("CONFIRM_LOAN", f"CONFIRM_LOAN:{bodies['loan']['requestNo']}")
    [freeze] = outbox_of(conn, bodies["freeze"]["requestNo"])
    assert json.loads(freeze["body"]) == {**result, "serviceName": "USER_AUTO_PRE_TRANSACTION"}
    assert record_of(conn, bodies["bare"]["requestNo"])["request_status"] == 0
    assert outbox_of(conn, bodies["bare"]["requestNo"]) == []
