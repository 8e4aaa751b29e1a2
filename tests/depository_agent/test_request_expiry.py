"""Requests expire, and the bank and the agent always agree about which did: the agent, the bank
sandbox, its notifier and the compensation worker as real processes, confirmations racing the expiry.

The bank's answer wins over any guess: a withdraw the bank confirmed before its expiry is settled as a
success even when its notification comes late (after compensation has asked), and a withdraw the
agent fails was refused by the bank, never paid out.
"""
import base64
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from tests.depository_agent.conftest import (SANDBOX_FAST, SERVICE, consumer_body, recharge_body, signed_request,
                                             withdraw_body)
from tests.support.infra import separate_infra
from tests.support.processes import free_port
from tests.support.waiting import wait_for

TTL = 6
CST = timezone(timedelta(hours=8))
# The old rule's knob is set as short as the lifetime: whatever it says, nothing may fail before its expiry.
COMPENSATION = {"COMPENSATION_AGE_SECONDS": 0, "COMPENSATION_INTERVAL_SECONDS": 0, "COMPENSATION_POLL_SECONDS": 1,
                "COMPENSATION_EXPIRY_GRACE_SECONDS": 0, "COMPENSATION_EXPIRY_SECONDS": TTL,
                "COMPENSATION_TRY_DELAY_MS": 10, "EXCEPTION_POLL_SECONDS": 1}


@pytest.fixture(scope="module")
def own_infra(infra):
    """Databases of this module's own: the compensation worker asks about every pending record."""
    with separate_infra(infra) as own:
        yield own


@pytest.fixture
def platform(own_infra, procs):
    """The agent (requests live TTL seconds) and the bank sandbox with its notifier, as real processes."""
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    agent = procs.web(SERVICE, own_infra.service_env(SERVICE, GATEWAY_REQUEST_TTL_SECONDS=TTL,
                                                     BANK_SANDBOX_URL=sandbox_url, **COMPENSATION))
    sandbox_env = own_infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=agent.url, **SANDBOX_FAST)
    sandbox = procs.web("bank_sandbox", sandbox_env, port=sandbox_port)
    procs.worker("bank_sandbox.workers.notifier", sandbox_env, name="sandbox-notifier")
    return agent, sandbox


def _confirm(sandbox, gateway: dict) -> requests.Response:
    return requests.post(f"{sandbox.url}/sandbox/confirm", timeout=10, json={
        "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
        "password": "246810"})


def _expires_at(gateway: dict) -> float:
    expired = json.loads(base64.b64decode(gateway["reqData"]))["expired"]
    return datetime.strptime(expired, "%Y%m%d%H%M%S").replace(tzinfo=CST).timestamp()


def _agent_records(infra, request_nos) -> dict:
    with psycopg.connect(infra.database_url(SERVICE), row_factory=dict_row) as conn:
        rows = conn.execute("select request_no, request_status, result_source, response_data from depository_record"
                            " where request_no = any(%s)", (list(request_nos),)).fetchall()
    return {row["request_no"]: row for row in rows}


def _bank_requests(infra, request_nos) -> dict:
    with psycopg.connect(infra.database_url("bank_sandbox"), row_factory=dict_row) as conn:
        rows = conn.execute("select r.request_no, r.status, r.resp_code, t.id is not null as paid from bank_requests r"
                            " left join bank_transactions t using (request_no) where r.request_no = any(%s)",
                            (list(request_nos),)).fetchall()
    return {row["request_no"]: row for row in rows}


def test_confirmations_racing_the_expiry_leave_the_bank_and_the_agent_in_agreement(platform, own_infra, procs):
    agent, sandbox = platform
    consumer = consumer_body(bankCode="ICBK")
    token = own_infra.internal_token
    assert _confirm(sandbox, signed_request(agent, token, "/l/consumers", consumer)).json()["status"] == 1
    user_no = consumer["userNo"]
    recharge = recharge_body(userNo=user_no, amount="1000.00")
    assert _confirm(sandbox, signed_request(agent, token, "/l/recharges", recharge)).json()["status"] == 1
    # notifications come late: compensation asks the bank before they arrive
    faults = requests.post(f"{sandbox.url}/sandbox/faults", json={"delaySeconds": 3.0}, timeout=5,
                           headers={"Authorization": f"Bearer {own_infra.internal_token}"})
    assert faults.status_code == 200, faults.text
    procs.worker("depository_agent.workers.compensation", own_infra.service_env(
        SERVICE, BANK_SANDBOX_URL=sandbox.url, **COMPENSATION), name="compensation")

    offsets = [-1.0, -0.5, -0.25, -0.1, 0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, None]  # None: never confirmed
    withdraws = []
    for index, offset in enumerate(offsets):
        body = withdraw_body(userNo=user_no, amount="10.00", commission="0.50")
        gateway = signed_request(agent, token, "/l/withdraws", body)
        if index % 2:  # half of them opened at the bank (recorded there, pending)
            page = requests.get(f"{sandbox.url}/gateway", timeout=10, params={
                key: gateway[key] for key in ("serviceName", "platformNo", "reqData", "signature")})
            assert page.status_code == 200, page.text
        withdraws.append((body["requestNo"], gateway, offset))

    answers: dict[str, requests.Response] = {}

    def confirm_at(request_no: str, gateway: dict, offset: float) -> None:
        time.sleep(max(0.0, _expires_at(gateway) + offset - time.time()))
        answers[request_no] = _confirm(sandbox, gateway)

    threads = [threading.Thread(target=confirm_at, args=item) for item in withdraws if item[2] is not None]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TTL + 30)
    request_nos = [request_no for request_no, _, _ in withdraws]
    records = wait_for(lambda: (found := _agent_records(own_infra, request_nos)) and all(
        row["request_status"] != 0 for row in found.values()) and found, timeout=60, what="every withdraw final")

    bank = _bank_requests(own_infra, request_nos)
    paid = 0
    for request_no, gateway, offset in withdraws:
        record, at_bank, answer = records[request_no], bank.get(request_no), answers.get(request_no)
        bank_paid = bool(at_bank and at_bank["paid"])
        if answer is not None and answer.status_code == 200:
            assert answer.json()["status"] == 1 and bank_paid, (offset, answer.json())
        elif answer is not None:
            assert answer.status_code == 400 and answer.json()["respCode"] == "20007", (offset, answer.text)
            assert offset >= -0.1, f"refused {-offset}s before its expiry"
        assert record["request_status"] == (1 if bank_paid else 2), (offset, record, at_bank)
        if bank_paid:
            assert record["result_source"] in ("QUERY", "NOTIFICATION")
            paid += 1050
        elif at_bank is not None:  # the bank knew it: its own failure (closed as expired) was applied
            assert (at_bank["status"], record["result_source"]) == (2, "QUERY"), (offset, record, at_bank)
            assert record["response_data"]["respCode"] == "20007"
        else:  # never seen by the bank, which now refuses it
            assert record["result_source"] == "EXPIRED", (offset, record)
    assert paid >= 1050 * 4  # the confirmations a second or more before their expiry went through
    balance = requests.get(f"{sandbox.url}/balance-details/{user_no}", timeout=5).json()["balance"]
    assert balance == f"{(100000 - paid) // 100}.{(100000 - paid) % 100:02d}"
