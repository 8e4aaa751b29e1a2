"""The transaction services through the agent against the REAL bank sandbox over HTTP (both gunicorn
processes): money moves inside the bank to the fen, refusals move nothing, repeats answer the same, and a
lost or late answer is settled by compensation and published exactly once."""
import importlib.util
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from shared import contract
from shared.db import create_pool
from shared.messaging import GATEWAY_NOTIFY_EXCHANGE, GATEWAY_NOTIFY_QUEUE, connect

from depository_agent import transactions
from depository_agent.bank_client import BankQuery, BankService
from depository_agent.compensation import Compensator
from depository_agent.config import load
from depository_agent.group_settle import GroupSettler
from depository_agent.reconciliation.compare import Item, compare
from depository_agent.reconciliation.sources import BankStatements
from depository_agent.repository.records import get_for_check
from depository_agent.wanxin import WanxinCodec

from tests.depository_agent.conftest import SERVICE, drain, new_request_no, outbox_of, record_of
from tests.support.processes import WebService, Worker, free_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(importlib.util.find_spec("bank_sandbox") is None, reason="bank-sandbox not present")]

PLATFORM_NO = "WANXINP2P"
PATHS = contract.TRANSACTION_PATHS
FREEZE, CANCEL, LOAN, REPAY = (contract.PRE_TRANSACTION, contract.CANCEL_PRE_TRANSACTION, contract.CONFIRM_LOAN,
                               contract.CONFIRM_REPAYMENT)
AGENT_TIMEOUT = 1  # the agent's BANK_SERVICE_TIMEOUT_SECONDS here


@pytest.fixture(scope="module")
def stack(infra, agent_db, tmp_path_factory):
    """The sandbox and the agent as gunicorn processes, and the agent's outbox relay."""
    from bank_sandbox.config import load as sandbox_load

    from tests.bank_sandbox.bank_client import BankClient
    from tests.bank_sandbox.conftest import PASSWORD, Platform

    logs = tmp_path_factory.mktemp("agent-transactions")
    sandbox_env = infra.service_env("bank_sandbox", SANDBOX_SCRYPT_N=1024)
    sandbox = WebService("bank_sandbox", sandbox_env, logs, workers=2).start()
    agent_env = infra.service_env(SERVICE, BANK_SANDBOX_URL=sandbox.url, BANK_SERVICE_TIMEOUT_SECONDS=AGENT_TIMEOUT)
    agent = WebService(SERVICE, agent_env, logs, workers=2).start()
    relay = Worker("depository_agent.workers.outbox_relay", agent_env, logs).start()
    bank = BankClient(sandbox.url, Platform(sandbox_load(infra.config("bank_sandbox"))), PASSWORD)
    yield agent, sandbox, bank
    for process in (relay, agent, sandbox):
        process.stop()


@pytest.fixture
def call(stack, infra):
    """POST one transaction service to the agent: ``(HTTP status, RestResponse)``."""
    agent = stack[0]

    def send(service: str, body: dict) -> tuple[int, dict]:
        response = requests.post(f"{agent.url}{PATHS[service]}", json=body, timeout=30,
                                 headers={"Authorization": f"Bearer {infra.internal_token}"})
        return response.status_code, response.json()

    return send


@pytest.fixture
def bank(stack):
    return stack[2]


@pytest.fixture
def faults(stack, infra):
    """Set the sandbox's fault knobs for one test (none: reset them); reset afterwards."""
    url, headers = f"{stack[1].url}/sandbox/faults", {"Authorization": f"Bearer {infra.internal_token}"}

    def set_faults(**knobs) -> None:
        method = requests.post if knobs else requests.delete
        assert method(url, json=knobs or None, headers=headers, timeout=10).status_code == 200

    yield set_faults
    requests.delete(url, headers=headers, timeout=10)


@pytest.fixture
def compensator(infra, stack):
    config = load(infra.config(SERVICE, BANK_SANDBOX_URL=stack[1].url, COMPENSATION_TRY_DELAY_MS=10))
    pool = create_pool(config, "test-transactions-compensation")
    yield Compensator(pool, WanxinCodec(config), BankQuery(config), config)
    pool.close()


@pytest.fixture
def results_queue(infra):
    """A queue of this test bound to the transaction services' routing keys."""
    connection = connect(infra.amqp_url, "test-transactions")
    channel = connection.channel()
    channel.exchange_declare(GATEWAY_NOTIFY_EXCHANGE, exchange_type="topic", durable=True)
    name = channel.queue_declare("", exclusive=True).method.queue
    for service in contract.TRANSACTION_SERVICES:
        channel.queue_bind(name, GATEWAY_NOTIFY_EXCHANGE, routing_key=service)
    yield channel, name
    connection.close()


def project_body(borrower: str, amount: str = "1000.00", **changes) -> dict:
    return {"requestNo": new_request_no(), "projectNo": "PRJ_" + new_request_no()[4:], "userNo": borrower,
            "projectAmount": amount, "projectName": "消费贷 ORD-1", "projectPeriod": 12, "annualRate": "0.18",
            "repaymentWay": contract.FIXED_REPAYMENT, **changes}


def freeze_body(user_no: str, amount: str, project_no: str, biz_type: str = contract.TENDER) -> dict:
    return {"requestNo": new_request_no(), "userNo": user_no, "amount": amount, "bizType": biz_type,
            "projectNo": project_no}


def ok(call, service: str, body: dict) -> dict:
    """A call the bank accepts: its result."""
    status, answer = call(service, body)
    assert status == 200 and answer["code"] == 0, answer
    result = answer["result"]
    assert result == {"requestNo": body["requestNo"], "serviceName": service, "status": 1, "respCode": "00000",
                      "respMsg": "success"}, result
    return result


def refused(call, service: str, body: dict, code: str) -> dict:
    status, answer = call(service, body)
    assert status == 200 and answer["result"]["status"] == 2 and answer["result"]["respCode"] == code, answer
    return answer["result"]


def project(call, bank, amount: str = "1000.00") -> tuple[str, str]:
    borrower = bank.open_user()
    body = project_body(borrower, amount)
    ok(call, contract.CREATE_PROJECT, body)
    return borrower, body["projectNo"]


def tender(call, user_no: str, amount: str, project_no: str, biz_type: str = contract.TENDER) -> str:
    body = freeze_body(user_no, amount, project_no, biz_type)
    ok(call, FREEZE, body)
    return body["requestNo"]


def test_tender_loan_repayment_and_cancel_move_the_right_balances_to_the_fen(call, bank):
    borrower, project_no = project(call, bank, "1100.00")
    lender_a, lender_b = bank.open_user("1000.00"), bank.open_user("500.00")
    platform, totals = bank.balances(PLATFORM_NO), bank.totals()
    tender_a = tender(call, lender_a, "600.00", project_no)
    tender_b = tender(call, lender_b, "400.00", project_no)
    assert bank.balances(lender_a) == (40000, 60000) and bank.balances(lender_b) == (10000, 40000)
    spare = tender(call, lender_b, "99.99", project_no)
    ok(call, CANCEL, {"requestNo": new_request_no(), "preRequestNo": spare, "userNo": lender_b, "amount": "99.99"})
    assert bank.balances(lender_b) == (10000, 40000)
    ok(call, LOAN, {"requestNo": new_request_no(), "projectNo": project_no, "commission": "10.00",
                    "details": [{"preRequestNo": tender_a, "amount": "600.00"},
                                {"preRequestNo": tender_b, "amount": "400"}]})
    assert bank.balances(borrower) == (99000, 0)
    assert bank.balances(lender_a) == (40000, 0) and bank.balances(lender_b) == (10000, 0)
    assert bank.balances(PLATFORM_NO)[0] == platform[0] + 1000
    ok(call, contract.MODIFY_PROJECT, {"requestNo": new_request_no(), "projectNo": project_no,
                                       "projectStatus": contract.REPAYING})
    repay_freeze = tender(call, borrower, "620.03", project_no, contract.REPAYMENT)
    assert bank.balances(borrower) == (99000 - 62003, 62003)
    ok(call, REPAY, {"requestNo": new_request_no(), "preRequestNo": repay_freeze, "projectNo": project_no,
                     "commission": "2.00", "details": [
                         {"userNo": lender_a, "amount": "360.00", "interest": "9.03"},
                         {"userNo": lender_b, "amount": "240.00", "interest": "9.00"}]})
    assert bank.balances(borrower) == (99000 - 62003, 0)
    assert bank.balances(lender_a) == (40000 + 36903, 0) and bank.balances(lender_b) == (10000 + 24900, 0)
    assert bank.balances(PLATFORM_NO)[0] == platform[0] + 1000 + 200
    # money moved only inside the bank: the cards and the bank's total are untouched
    after = bank.totals()
    assert (after["cards"], after["total"]) == (totals["cards"], totals["total"])
    assert after["platform"] == totals["platform"] + 1200


def test_refusals_move_nothing(call, bank):
    borrower, project_no = project(call, bank)
    lender = bank.open_user("100.00")
    used = tender(call, lender, "50.00", project_no)
    ok(call, LOAN, {"requestNo": new_request_no(), "projectNo": project_no, "commission": "0.00",
                    "details": [{"preRequestNo": used, "amount": "50.00"}]})
    held = tender(call, lender, "30.00", project_no)
    users = [borrower, lender]
    before = bank.snapshot(users)
    refused(call, FREEZE, freeze_body(lender, "20.01", project_no), contract.RESP_INSUFFICIENT)  # over-freezing
    refused(call, LOAN, {"requestNo": new_request_no(), "projectNo": project_no, "commission": "0.00",
                         "details": [{"preRequestNo": used, "amount": "50.00"}]},
            contract.RESP_NO_PRE_TRANSACTION)  # a tender used already
    refused(call, LOAN, {"requestNo": new_request_no(), "projectNo": project_no, "commission": "0.00",
                         "details": [{"preRequestNo": held, "amount": "29.99"}]}, contract.RESP_AMOUNTS_DIFFER)
    refused(call, CANCEL, {"requestNo": new_request_no(), "preRequestNo": held, "userNo": lender, "amount": "30.01"},
            contract.RESP_AMOUNTS_DIFFER)
    repay = tender(call, borrower, "10.00", project_no, contract.REPAYMENT)
    before = bank.snapshot(users)
    refused(call, REPAY, {"requestNo": new_request_no(), "preRequestNo": repay, "projectNo": project_no,
                          "commission": "0.01", "details": [{"userNo": lender, "amount": "10.00", "interest": "0.00"}]},
            contract.RESP_AMOUNTS_DIFFER)  # 10.01 paid out of a 10.00 freeze
    assert bank.snapshot(users) == before


def test_an_expired_request_is_refused_by_the_bank_and_moves_nothing(infra, call, bank, db):
    """A request first signed for one second, when the bank could not be reached, then asked again through
    the agent once its expired has passed: the agent sends the very request it stored, the bank refuses it."""
    _, project_no = project(call, bank)
    lender = bank.open_user("100.00")
    before = bank.snapshot([lender])
    config = load(infra.config(SERVICE, BANK_SANDBOX_URL=f"http://127.0.0.1:{free_port()}"))
    pool = create_pool(config, "test-expired-transaction", autocommit=True)  # as the agent's (group_settle.py)
    body = freeze_body(lender, "10.00", project_no)
    try:
        status, result = transactions.call(pool, WanxinCodec(config), BankService(config), GroupSettler(pool, 8),
                                           FREEZE, body, config["MAX_AMOUNT_FEN"], ttl_seconds=1)
    finally:
        pool.close()
    assert (status, result["status"]) == (202, 0)
    time.sleep(2.1)
    assert refused(call, FREEZE, body, contract.RESP_EXPIRED)["requestNo"] == body["requestNo"]
    assert record_of(db, body["requestNo"])["result_source"] == "ANSWER"
    assert bank.snapshot([lender]) == before


def test_the_same_requestno_answers_the_same_and_another_body_is_409(call, bank, db):
    _, project_no = project(call, bank)
    lender = bank.open_user("100.00")
    body = freeze_body(lender, "10.00", project_no)
    first = ok(call, FREEZE, body)
    assert ok(call, FREEZE, {**body, "amount": "10"}) == first  # the same amount, written otherwise
    assert bank.balances(lender) == (9000, 1000)
    for other in ({**body, "amount": "10.01"}, {**body, "bizType": contract.REPAYMENT}):
        status, answer = call(FREEZE, other)
        assert status == 409 and answer["code"] != 0, answer
    status, answer = call(CANCEL, {"requestNo": body["requestNo"], "preRequestNo": body["requestNo"],
                                   "userNo": lender, "amount": "10.00"})
    assert status == 409, answer
    assert bank.balances(lender) == (9000, 1000)
    assert len(outbox_of(db, body["requestNo"])) == 1


@pytest.mark.parametrize("knobs", [{"serviceLoseAnswer": "close"}, {"serviceLoseAnswer": "error"},
                                   {"serviceDelaySeconds": AGENT_TIMEOUT + 2}],
                         ids=["closed", "502", "late"])
def test_a_lost_or_late_answer_is_202_then_settled_by_compensation_and_published_once(
        knobs, call, bank, faults, compensator, results_queue, db):
    _, project_no = project(call, bank)
    lender = bank.open_user("100.00")
    totals = bank.totals()
    body = freeze_body(lender, "25.00", project_no)
    faults(**knobs)
    status, answer = call(FREEZE, body)
    faults()  # only this call's answer is lost or late
    assert status == 202 and answer["result"]["status"] == 0, answer
    assert record_of(db, body["requestNo"])["request_status"] == 0
    assert bank.balances(lender) == (7500, 2500)  # the bank committed
    time.sleep(knobs.get("serviceDelaySeconds", 0))  # let the late answer go its way
    assert compensator.check(get_for_check(db, body["requestNo"])) == "SETTLED"
    record = record_of(db, body["requestNo"])
    assert (record["request_status"], record["result_source"]) == (1, "QUERY")
    assert ok(call, FREEZE, body)["respCode"] == "00000"  # the caller asking again hears the result
    assert compensator.check(get_for_check(db, body["requestNo"])) == "ALREADY_FINAL"
    channel, queue = results_queue
    message_id = f"{FREEZE}:{body['requestNo']}"
    received = drain(channel, queue, {message_id})
    time.sleep(0.5)
    received.update({key: received.get(key, []) + value for key, value in drain(channel, queue, set(), 0.5).items()})
    assert len(received[message_id]) == 1
    [(_, properties, raw)] = received[message_id]
    assert contract.parse_message(raw).fields == {"requestNo": body["requestNo"], "respCode": "00000",
                                                  "respMsg": "success", "status": 1}
    after = bank.totals()  # 25.00 moved from available to frozen, once; nothing else
    assert bank.balances(lender) == (7500, 2500)
    assert after == {**totals, "available": totals["available"] - 2500, "frozen": totals["frozen"] + 2500}
    # user-center's queue (declared by the relay) is bound to the gateway services only: none of these reach it
    while (message := channel.basic_get(GATEWAY_NOTIFY_QUEUE, auto_ack=False))[0] is not None:
        assert message[0].routing_key in contract.GATEWAY_SERVICES, message



def test_requests_are_checked_before_anything_is_recorded(call, db):
    borrower = "USR_" + "A" * 32
    for body in (project_body(borrower, projectPeriod=12.5), project_body(borrower, projectPeriod="12"),
                 project_body(borrower, annualRate="0.180"), project_body(borrower, repaymentWay="BULLET"),
                 project_body(borrower, projectAmount="0.00"), project_body(borrower, projectNo="PRJ 1")):
        status, answer = call(contract.CREATE_PROJECT, body)
        assert status == 400 and answer["code"] != 0, (body, answer)
        assert record_of(db, body["requestNo"]) is None
    pre = new_request_no()
    for details in ([], [{"preRequestNo": pre, "amount": "1.00"}] * 2, [{"preRequestNo": pre, "amount": "-1.00"}]):
        body = {"requestNo": new_request_no(), "projectNo": "PRJ_1", "commission": "0.00", "details": details}
        status, answer = call(LOAN, body)
        assert status == 400, (details, answer)
        assert record_of(db, body["requestNo"]) is None


def test_the_agents_records_carry_the_money_they_concern(call, bank, db):
    borrower, project_no = project(call, bank, "1234.56")
    rows = db.execute("select request_type, user_no, amount, commission, object_type, object_id from depository_record"
                      " where object_id = %s", (project_no,)).fetchall()
    assert rows == [{"request_type": contract.CREATE_PROJECT, "user_no": borrower, "amount": 123456,
                     "commission": None, "object_type": "PROJECT", "object_id": project_no}]


def test_reconciliation_matches_every_statement_line_of_the_agents_requests(infra, stack, call, bank, db):
    """Each freeze, cancel, loan and repayment line of the bank's statement (read by reconciliation's own
    source) meets its agent record with nothing to report, and every successful money-moving record is there."""
    borrower, project_no = project(call, bank)
    lender = bank.open_user("100.00")
    spare = tender(call, lender, "1.00", project_no)
    ok(call, CANCEL, {"requestNo": new_request_no(), "preRequestNo": spare, "userNo": lender, "amount": "1.00"})
    used = tender(call, lender, "60.00", project_no)
    ok(call, LOAN, {"requestNo": new_request_no(), "projectNo": project_no, "commission": "0.60",
                    "details": [{"preRequestNo": used, "amount": "60.00"}]})
    repay = tender(call, borrower, "30.00", project_no, contract.REPAYMENT)
    ok(call, REPAY, {"requestNo": new_request_no(), "preRequestNo": repay, "projectNo": project_no,
                     "commission": "0.00", "details": [{"userNo": lender, "amount": "29.00", "interest": "1.00"}]})
    config = load(infra.config(SERVICE, BANK_SANDBOX_URL=stack[1].url))
    today = datetime.now(ZoneInfo(config["RECONCILE_TIMEZONE"])).date()
    lines = {request_no: line for request_no, line in BankStatements(config).fetch(today).items()
             if line["serviceName"] in contract.TRANSACTION_SERVICES}
    rows = {row["request_no"]: row for row in db.execute(
        "select * from depository_record where request_no = any(%s)", (list(lines),)).fetchall()}
    assert len(rows) >= 6
    for request_no, row in rows.items():
        assert compare(Item(request_no, lines[request_no], row)) == [], (lines[request_no], row)
    moved = db.execute("select request_no from depository_record where request_status = 1 and request_type in"
                       " ('USER_AUTO_PRE_TRANSACTION', 'CANCEL_PRE_TRANSACTION', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT')"
                       " and created_at > now() - interval '1 minute'").fetchall()
    assert {row["request_no"] for row in moved} <= set(lines)
