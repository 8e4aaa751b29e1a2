"""Interoperability with the real bank-sandbox processes: its notifications and query answers are
accepted, and requests the agent signs are accepted by the bank."""
import importlib.util
import time

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from shared.db import create_pool

from depository_agent.bank_client import BankQuery
from depository_agent.compensation import Compensator
from depository_agent.config import load
from depository_agent.repository.records import get_for_check
from depository_agent.wanxin import WanxinCodec

from tests.depository_agent.conftest import (SANDBOX_FAST, SERVICE, consumer_body, record_of, recharge_body,
                                             signed_request)

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(importlib.util.find_spec("bank_sandbox") is None, reason="bank-sandbox not present")]

@pytest.fixture
def stack(procs, infra, agent_db):
    agent = procs.web(SERVICE, infra.service_env(SERVICE))
    sandbox_env = infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=agent.url, **SANDBOX_FAST)
    sandbox = procs.web("bank_sandbox", sandbox_env)
    procs.worker("bank_sandbox.workers.notifier", sandbox_env, name="sandbox-notifier")
    return agent, sandbox


def _confirm(sandbox, gateway: dict, outcome: str = "success") -> dict:
    response = requests.post(f"{sandbox.url}/sandbox/confirm", timeout=10, json={
        "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
        "serviceName": gateway["serviceName"], "password": "246810", "outcome": outcome})
    assert response.status_code == 200, response.text
    return response.json()


def _wait_final(conn, request_no: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = record_of(conn, request_no)
        if record["request_status"] != 0:
            return record
        time.sleep(0.1)
    return record_of(conn, request_no)


def test_sandbox_notifications_settle_agent_records(stack, infra, db):
    agent, sandbox = stack
    consumer = consumer_body(bankCode="ICBK")
    _confirm(sandbox, signed_request(agent, infra.internal_token, "/l/consumers", consumer))
    record = _wait_final(db, consumer["requestNo"])
    assert record["request_status"] == 1 and record["response_data"]["bankName"] == "中国工商银行"
    recharge = recharge_body(userNo=consumer["userNo"], amount="88.80")
    _confirm(sandbox, signed_request(agent, infra.internal_token, "/l/recharges", recharge), outcome="fail")
    record = _wait_final(db, recharge["requestNo"])
    assert record["request_status"] == 2 and record["response_data"]["transactionStatus"] == "FAIL"


def test_compensation_reads_the_sandbox_query_answers(stack, infra, db):
    agent, sandbox = stack
    config = load(infra.config(SERVICE, BANK_SANDBOX_URL=sandbox.url, COMPENSATION_TRY_DELAY_MS=10))
    never_seen = recharge_body()
    signed_request(agent, infra.internal_token, "/l/recharges", never_seen)
    opened = recharge_body()
    gateway = signed_request(agent, infra.internal_token, "/l/recharges", opened)
    page = requests.get(gateway["depositoryUrl"].replace("http://127.0.0.1:8005", sandbox.url), timeout=5,
                        params={key: gateway[key] for key in ("serviceName", "platformNo", "reqData", "signature")})
    assert page.status_code == 200
    pool = create_pool(config, "test-compensation")
    try:
        compensator = Compensator(pool, WanxinCodec(config), BankQuery(config), config)
        with psycopg.connect(infra.database_url(SERVICE), row_factory=dict_row) as conn:
            records = {rn: get_for_check(conn, rn) for rn in (never_seen["requestNo"], opened["requestNo"])}
        assert compensator.check(records[never_seen["requestNo"]]) == "UNKNOWN"
        assert compensator.check(records[opened["requestNo"]]) == "PENDING"
        assert compensator.check({**records[never_seen["requestNo"]], "past_expiry_seconds": 10**6}) == "EXPIRED"
    finally:
        pool.close()
    assert record_of(db, never_seen["requestNo"])["request_status"] == 2
    assert record_of(db, opened["requestNo"])["request_status"] == 0
