"""user-center fixtures: the app in process against the run's PostgreSQL, with stand-ins of the
ledger and the agent (other services), plus helpers to drive a user through the API."""
import base64
import json
import uuid
from dataclasses import dataclass

import pika
import psycopg
import pytest
from psycopg.rows import dict_row

from shared.ledger_client import LedgerClient
from shared.messaging import (GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_EXCHANGE, GATEWAY_NOTIFY_QUEUE, connect,
                              declare_gateway_notify)
from tests.support.processes import WebService
from tests.support.waiting import wait_for  # noqa: F401 (the tests import it from here)
from tests.user_center.standins import AgentStandIn

from user_center import notifications
from user_center.bootstrap import create_app, dependencies

COMMISSION = "1.00"
CALLBACK = "http://127.0.0.1:8001/#/callback"


class LedgerView:
    """The real beanpay-ledger process, and what tests read from it."""

    def __init__(self, url: str, config: dict):
        self.url = url
        self.client = LedgerClient(url, config)

    def balance(self, eid: str) -> int:
        return self.client.balance(eid)["balance"]

    def trade_nos(self, eid: str, change_type: int) -> list[str]:
        """trade_no of the account's postings of one type (1 add, 2 deduct, 3 refund), newest first; none
        while the account does not exist."""
        answer = self.client.client.post("/account/record/query", json={"eid": eid, "change_type": change_type,
                                                                        "ps": 100})
        if answer.status_code == 404:
            return []
        return [record["trade_no"] for record in answer.json()["data"]]


@pytest.fixture(scope="session")
def ledger(infra, tmp_path_factory):
    process = WebService("beanpay_ledger", infra.service_env("beanpay_ledger"), tmp_path_factory.mktemp("ledger"))
    process.start()
    yield LedgerView(process.url, infra.config("user_center"))
    process.stop()


@pytest.fixture(scope="session")
def agent(infra):
    standin = AgentStandIn(infra.internal_token, infra.keys_dir).start()
    yield standin
    standin.stop()


@pytest.fixture(autouse=True)
def _agent_healthy(agent):
    agent.fail_with = agent.record_answer = None
    yield
    agent.fail_with = agent.record_answer = None


@pytest.fixture(scope="session")
def app(infra, ledger, agent):
    return create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                   WITHDRAW_COMMISSION=COMMISSION))


@pytest.fixture(scope="session")
def client(app):
    return app.test_client()


@pytest.fixture
def cli_env(infra, ledger, agent):
    """Environment of user-center's command and consumer processes, on the run's ledger and the stand-in agent."""
    return infra.service_env("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                             HOLD_ORPHAN_SECONDS=600)


@pytest.fixture
def db(infra):
    """A direct connection to user-center's database, to check what was (not) stored."""
    with psycopg.connect(infra.migrated_database("user_center"), row_factory=dict_row, autocommit=True) as conn:
        yield conn


def new_mobile() -> str:
    return "13" + str(uuid.uuid4().int)[:9]


@dataclass
class User:
    """A registered, logged-in user and the calls it makes."""

    client: object
    mobile: str
    user_no: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs):
        return self.client.post(path, headers=self.headers, json=json, **kwargs)


@pytest.fixture(scope="session")
def make_user(client):
    """Register and log in a fresh user."""

    def make() -> User:
        mobile = new_mobile()
        registered = client.post("/consumers", json={"mobile": mobile, "password": "secret-pass-1"})
        assert registered.status_code == 201, registered.json
        token = client.post("/tokens", json={"mobile": mobile, "password": "secret-pass-1"}).json["result"]
        return User(client, mobile, registered.json["result"]["userNo"], token["access_token"])

    return make


def open_form(**changes) -> dict:
    form = {"fullname": "Zhang San", "idNumber": "11010519491231002X", "bankCode": "ICBC",
            "cardNumber": "6222020200112341234", "mobile": "13900139000", "role": "I", "callbackUrl": CALLBACK}
    form.update(changes)
    return form


def request_no_of(gateway: dict) -> str:
    """The requestNo inside a GatewayRequest's (Base64 JSON) reqData."""
    return json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]


def notification(service: str, request_no: str, success: bool = True, amount: str | None = None) -> dict:
    """A result message as the agent publishes it (docs/protocols.md)."""
    body = {"serviceName": service, "requestNo": request_no, "respCode": "00000" if success else "EXPIRED",
            "respMsg": "ok" if success else "failed", "status": 1 if success else 2}
    if service == "PERSONAL_REGISTER":
        body.update(bankCode="ICBC", bankName="Industrial and Commercial Bank of China")
    else:
        body.update(transactionStatus="SUCCESS" if success else "FAIL", amount=amount)
    return body


@pytest.fixture(scope="session")
def settle(app, ledger):
    """Apply a bank result in process with the consumer's own code (for API tests that need state)."""
    ledger_client = LedgerClient(ledger.url, app.config)

    def apply(service: str, request_no: str, success: bool = True, amount: str | None = None) -> str:
        return notifications.apply(dependencies(app).pool, ledger_client, app.config["PLATFORM_NO"],
                                   notification(service, request_no, success, amount))

    return apply


@pytest.fixture(scope="session")
def opened_user(make_user, settle):
    """A user whose depository account is open (register request + success applied)."""

    def make() -> User:
        user = make_user()
        gateway = user.post("/my/consumers", open_form()).json["result"]
        assert settle("PERSONAL_REGISTER", request_no_of(gateway)) == notifications.APPLIED
        return user

    return make


@pytest.fixture(scope="session")
def funded_user(opened_user, settle):
    """An opened user with a recharge of ``amount`` credited."""

    def make(amount: str = "500.00") -> User:
        user = opened_user()
        gateway = user.post("/my/recharge-records", {"amount": amount, "callbackUrl": CALLBACK}).json["result"]
        assert settle("RECHARGE", request_no_of(gateway), True, amount) == notifications.APPLIED
        return user

    return make


@pytest.fixture(scope="module")
def idle_user(opened_user):
    """An opened user that only bad requests are sent for: it must never get a record."""
    return opened_user()


@pytest.fixture(scope="module")
def idle_new_user(make_user):
    """A user without a depository account that only bad requests are sent for."""
    return make_user()


class Publisher:
    """Publishes notifications to the agent's exchange as the agent's outbox relay does."""

    def __init__(self, amqp_url: str):
        self.connection = connect(amqp_url, "test-publisher")
        self.channel = self.connection.channel()
        declare_gateway_notify(self.channel)
        self.channel.confirm_delivery()

    def publish(self, body: dict | bytes, request_id: str | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        service = body.get("serviceName", "RECHARGE") if isinstance(body, dict) else "RECHARGE"
        message_id = f"{service}:{body.get('requestNo')}" if isinstance(body, dict) else "garbage"
        self.channel.basic_publish(GATEWAY_NOTIFY_EXCHANGE, service, raw, pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=message_id,
            headers={"x-request-id": request_id or uuid.uuid4().hex}))

    def ready(self, queue: str) -> int:
        """Messages ready in ``queue`` (unacked ones are not counted)."""
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def consumers(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.consumer_count

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def publisher(infra):
    """A publisher on this run's vhost, starting from empty queues (other suites publish there too)."""
    pub = Publisher(infra.amqp_url)
    pub.channel.queue_purge(GATEWAY_NOTIFY_QUEUE)
    pub.channel.queue_purge(GATEWAY_NOTIFY_DLQ)
    yield pub
    pub.close()
