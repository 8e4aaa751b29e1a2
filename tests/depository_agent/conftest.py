"""Fixtures for the depository-agent: an in-process app on this run's database, keys, bank messages."""
import os
import time
import uuid

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from shared.messaging import GATEWAY_NOTIFY_EXCHANGE, connect, declare_gateway_notify
from shared.signing import encode_wanxin, load_key

from depository_agent.bootstrap import create_app

SERVICE = "depository_agent"
PLATFORM_NO = "WANXINP2P"
RELAY = "depository_agent.workers.outbox_relay"


def new_request_no() -> str:
    return "REQ_" + uuid.uuid4().hex.upper()


def new_user_no() -> str:
    return "USR_" + uuid.uuid4().hex.upper()


def consumer_body(**changes) -> dict:
    body = {"requestNo": new_request_no(), "userNo": new_user_no(), "fullname": "张三",
            "idNumber": "110101199003070011", "bankCode": "ICBC", "cardNumber": "6222021234567890123",
            "mobile": "13800138000", "role": "I", "callbackUrl": "http://127.0.0.1:8001/#/callback"}
    return {**body, **changes}


def recharge_body(**changes) -> dict:
    body = {"requestNo": new_request_no(), "userNo": new_user_no(), "amount": "100.00",
            "callbackUrl": "http://127.0.0.1:8001/#/callback"}
    return {**body, **changes}


def withdraw_body(**changes) -> dict:
    body = {"requestNo": new_request_no(), "userNo": new_user_no(), "amount": "50.00", "commission": "1.00",
            "cardNumber": "6222021234567890123", "mobile": "13800138000",
            "callbackUrl": "http://127.0.0.1:8001/#/callback"}
    return {**body, **changes}


PATHS = {"PERSONAL_REGISTER": ("/l/consumers", consumer_body), "RECHARGE": ("/l/recharges", recharge_body),
         "WITHDRAW": ("/l/withdraws", withdraw_body)}


def bank_result(service_name: str, request_no: str, success: bool = True, amount: str = "100.00") -> dict:
    """A notification JSON as docs/protocols.md describes it."""
    result = {"requestNo": request_no, "respCode": "00000" if success else "10001",
              "respMsg": "success" if success else "declined", "status": 1 if success else 2}
    if service_name == "PERSONAL_REGISTER":
        result.update(bankCode="ICBC", bankName="工商银行")
    else:
        result.update(transactionStatus="SUCCESS" if success else "FAIL", amount=amount)
    return result


def sign_bank_message(keys_dir: str, service_name: str, payload: dict, hash_name: str = "SHA256",
                      platform_no: str = PLATFORM_NO, key_file: str = "bank_private.pem") -> dict:
    req_data, signature = encode_wanxin(payload, load_key(os.path.join(keys_dir, key_file)), hash_name)
    return {"serviceName": service_name, "platformNo": platform_no, "reqData": req_data, "signature": signature}


@pytest.fixture(scope="session")
def agent_db(infra) -> str:
    return infra.migrated_database(SERVICE)


@pytest.fixture(scope="session")
def app(infra, agent_db):
    app = create_app(infra.config(SERVICE, BANK_SANDBOX_URL="http://bank.test:8005"))
    yield app
    app.extensions["depository_agent"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def auth(infra) -> dict:
    return {"Authorization": f"Bearer {infra.internal_token}"}


@pytest.fixture
def db(agent_db):
    with psycopg.connect(agent_db, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def make_request(client, auth):
    """Create a gateway request through the API; returns (body, GatewayRequest)."""

    def make(service_name: str = "RECHARGE", **changes):
        path, build = PATHS[service_name]
        body = build(**changes)
        response = client.post(path, json=body, headers=auth)
        assert response.status_code == 200, response.get_json()
        return body, response.get_json()["result"]

    return make


@pytest.fixture
def notify(client, infra):
    """Send a bank notification signed with the bank key (GET with query parameters by default)."""

    def send(service_name: str, payload: dict, method: str = "GET", **sign_options):
        message = sign_bank_message(infra.keys_dir, service_name, payload, **sign_options)
        if method == "GET":
            return client.get("/gateway", query_string=message)
        return client.post("/gateway", query_string=message)

    return send


# The bank sandbox as a real process in these tests: fast notifier retries, cheap password hashes.
SANDBOX_FAST = {"NOTIFIER_BACKOFF_BASE_SECONDS": "0.05", "NOTIFIER_BACKOFF_MAX_SECONDS": "0.2",
                "NOTIFIER_POLL_SECONDS": "0.1", "SANDBOX_SCRYPT_N": 1024}


def signed_request(agent, token: str, path: str, body: dict) -> dict:
    """The GatewayRequest a running agent process signs for ``body`` at ``path`` (``/l/...``)."""
    response = requests.post(f"{agent.url}{path}", json=body, timeout=10, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["result"]


def record_of(conn, request_no: str) -> dict | None:
    return conn.execute("select * from depository_record where request_no = %s", (request_no,)).fetchone()


def outbox_of(conn, request_no: str) -> list[dict]:
    return conn.execute("select * from outbox where message_id like %s order by id", (f"%:{request_no}",)).fetchall()


@pytest.fixture
def test_queue(infra):
    """A queue of this test bound to every routing key of the notification exchange."""
    name = f"test.agent.{uuid.uuid4().hex[:8]}"
    connection = connect(infra.amqp_url, "test-consumer")
    channel = connection.channel()
    declare_gateway_notify(channel)
    channel.queue_declare(name, durable=False, exclusive=True)
    channel.queue_bind(name, GATEWAY_NOTIFY_EXCHANGE, routing_key="#")
    yield channel, name
    connection.close()


def drain(channel, queue: str, wanted: set, timeout: float = 20) -> dict:
    """Messages of ``queue`` by message_id until every id in ``wanted`` arrived (or timeout)."""
    received: dict = {}
    deadline = time.monotonic() + timeout
    while not wanted <= set(received) and time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            channel.connection.sleep(0.05)
            continue
        received.setdefault(properties.message_id, []).append((method, properties, body))
    return received
