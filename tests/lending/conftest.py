"""lending fixtures: its own databases (lending and the ledger) on the run's servers, the real ledger and
partner-sandbox as processes, stand-ins for the agent's transaction services and user-center's additions
(tests/lending/standins.py), lending in process for the use cases and its API, and helpers that walk
an order through its steps."""
import json
import random
import signal
import time
import uuid
from datetime import date, timedelta

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from shared.contract import AUDIT_REQUEST, CREDIT_REQUEST
from shared.ledger_client import LedgerClient
from shared.partner_envelope import seal
from tests.lending.standins import PLATFORM_NO, DepositoryStandIn, UserCenterStandIn, recharge
from tests.support.infra import separate_infra
from tests.support.processes import WebService, free_port

from lending import call_settlement, credit_application, credit_engine, disbursement
from lending.bootstrap import build, create_app
from lending.credit_engine import check_character

FUNDER_BALANCE = 1_000_000_000  # ¥10,000,000.00
FAST = {"JOB_POLL_MS": 100, "STATE_CHECK_SECONDS": 1, "CALL_RESEND_SECONDS": 2, "DISBURSE_RETRY_BASE_SECONDS": 1,
        "DISBURSE_RETRY_MAX_SECONDS": 2, "POSTING_RETRY_BASE_SECONDS": 1, "POSTING_RETRY_MAX_SECONDS": 2,
        "CALLBACK_RETRY_BASE_SECONDS": 1, "CALLBACK_RETRY_MAX_SECONDS": 2, "PULL_RETRY_BASE_SECONDS": 1,
        "RETRY_BASE_MS": 200, "RETRY_MAX_MS": 1000, "OUTBOX_POLL_MS": 50, "SERVICE_TIMEOUT_SECONDS": 2,
        "PARTNER_TIMEOUT_SECONDS": 3, "OVERDUE_POLL_SECONDS": 1}


@pytest.fixture(scope="session")
def lending_infra(infra):
    """Databases of lending's own (lending, the ledger, partner-sandbox), so that the platform account and
    every balance compared here move only by what these tests do."""
    with separate_infra(infra) as own:
        yield own


@pytest.fixture(scope="session")
def secret(lending_infra) -> str:
    return lending_infra.partner_secret


@pytest.fixture(scope="session")
def ledger(lending_infra, tmp_path_factory):
    process = WebService("beanpay_ledger", lending_infra.service_env("beanpay_ledger"),
                         tmp_path_factory.mktemp("ledger")).start()
    client = LedgerClient(process.url, {"INTERNAL_TOKEN": lending_infra.internal_token})
    client.url = process.url
    yield client
    process.stop()


@pytest.fixture(scope="session")
def bank(lending_infra):
    standin = DepositoryStandIn(lending_infra.internal_token, lending_infra.amqp_url).start()
    yield standin
    standin.stop()


@pytest.fixture(autouse=True)
def _bank_healthy(bank):
    bank.reset_faults()
    yield
    bank.reset_faults()


@pytest.fixture(scope="session")
def users(lending_infra, bank, ledger):
    standin = UserCenterStandIn(lending_infra.internal_token, bank, ledger).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def funder(bank, ledger) -> str:
    """A funder's depository account holding ¥10,000,000.00 at the bank and in the ledger."""
    user_no = "USR_" + uuid.uuid4().hex.upper()
    recharge(bank, ledger, user_no, FUNDER_BALANCE)
    ledger.create_account(PLATFORM_NO, "platform")
    return user_no


@pytest.fixture(scope="session")
def lending_port() -> int:
    """The port lending's process takes in the tests that start one (partner-sandbox calls it there)."""
    return free_port()


@pytest.fixture(scope="session")
def sandbox(lending_infra, lending_port, tmp_path_factory):
    """partner-sandbox as a process: credit data for lending's pulls, and the receiver of its callbacks."""
    env = lending_infra.service_env("partner_sandbox", LENDING_URL=f"http://127.0.0.1:{lending_port}")
    process = WebService("partner_sandbox", env, tmp_path_factory.mktemp("sandbox")).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def settings(ledger, bank, users, funder, sandbox) -> dict:
    """lending's settings in these tests (typed; :func:`as_env` turns them into a process environment)."""
    return {**FAST, "LEDGER_URL": ledger.url, "DEPOSITORY_AGENT_URL": bank.url, "USER_CENTER_URL": users.url,
            "PARTNER_URL": sandbox.url, "PARTNER_CALLBACK_URL": f"{sandbox.url}/callbacks",
            "FUNDER_USER_NOS": (funder,), "PLATFORM_NO": PLATFORM_NO}


def stop_together(processes) -> None:
    """Stop processes at once: all are told to stop first, then each is waited for (each finishes its step)."""
    for process in processes:
        process.signal(signal.SIGTERM)
    for process in processes:
        process.stop()


def as_env(settings: dict) -> dict:
    return {key: ",".join(value) if isinstance(value, tuple) else str(value) for key, value in settings.items()}


@pytest.fixture(scope="session")
def config(lending_infra, settings) -> dict:
    return lending_infra.config("lending", **settings)


@pytest.fixture(scope="session")
def deps(config):
    built = build(config, "lending-tests")
    yield built
    built.close()


@pytest.fixture(scope="session")
def client(config):
    return create_app(config).test_client()


@pytest.fixture
def db(lending_infra):
    """A direct connection to lending's database."""
    with psycopg.connect(lending_infra.migrated_database("lending"), row_factory=dict_row, autocommit=True) as conn:
        yield conn


@pytest.fixture
def lending_env(lending_infra, settings):
    """The environment of a lending process (web or worker) in these tests."""
    return lending_infra.service_env("lending", **as_env(settings))


# --- the partner's side ---------------------------------------------------------------------------------

class Partner:
    """Signed partner calls to lending (in process through the test client, or over HTTP to ``url``)."""

    def __init__(self, secret: str, client=None, url: str | None = None):
        self.secret, self.client, self.url = secret, client, url

    def raw(self, name: str, envelope) -> tuple[int, dict]:
        if self.client is not None:
            response = self.client.post(f"/rongshu/{name}", json=envelope)
            return response.status_code, response.get_json()
        response = requests.post(f"{self.url}/rongshu/{name}", json=envelope, timeout=30)
        return response.status_code, response.json()

    def envelope(self, biz: dict, stamp_ms: int | None = None) -> dict:
        return seal(biz, "rongshu", self.secret, stamp_ms or int(time.time() * 1000))

    def __call__(self, name: str, biz: dict) -> tuple[int, dict]:
        return self.raw(name, self.envelope(biz))

    def ok(self, name: str, biz: dict) -> dict:
        status, answer = self(name, biz)
        assert status == 200 and answer["code"] == 0, (name, status, answer)
        return answer["data"]


@pytest.fixture(scope="session")
def partner(secret, client) -> Partner:
    return Partner(secret, client=client)


def id_number(born: date | None = None, region: str = "110105") -> str:
    """A valid 18-character ID number (GB 11643 check digit) for someone born on ``born`` (default: ~30)."""
    born = born or date.today() - timedelta(days=365 * 30 + random.randint(0, 3000))
    first17 = f"{region}{born:%Y%m%d}{random.randint(0, 999):03d}"
    return first17 + check_character(first17)


def new_person(**changes) -> dict:
    person = {"name": "张三", "mobile": "1" + str(random.randint(3, 9)) + f"{random.randint(0, 10**9 - 1):09d}",
              "idNumber": id_number()}
    person.update(changes)
    return person


def new_order_no() -> str:
    return "T" + uuid.uuid4().hex[:20].upper()


def push(partner: Partner, amount: int = 1_000_000, term: int = 6, **person) -> tuple[str, dict]:
    order_no, who = new_order_no(), new_person(**person)
    partner.ok("order/push", {"orderNo": order_no, "loanAmount": amount, "loanTerm": term, **who})
    return order_no, who


TABLES = ("partner_orders", "cards", "envelope_replays", "borrow_confirm_log", "borrows", "repayments",
          "depository_calls", "partner_callbacks", "outbox", "ledger_postings")


def stored(db) -> dict:
    """How many rows each of lending's tables holds: a refused call must change none of them."""
    return {table: db.execute(f"select count(*) as n from {table}").fetchone()["n"] for table in TABLES}


def a_push(**changes) -> dict:
    """An order/push bizData for a new person and orderNo."""
    return {"orderNo": new_order_no(), "loanAmount": 1_000_000, "loanTerm": 6, **new_person(), **changes}


def order_status(db, order_no: str) -> int:
    return db.execute("select status from partner_orders where order_no = %s", (order_no,)).fetchone()["status"]


def borrow_of(db, order_no: str) -> dict | None:
    return db.execute("select * from borrows where order_no = %s", (order_no,)).fetchone()


def take_from_outbox(deps, routing_key: str) -> list[dict]:
    """The messages with ``routing_key`` still in the outbox, marked sent (as the relay would publish them)."""
    with deps.pool.connection() as conn:
        rows = conn.execute("select body from outbox where routing_key = %s and sent_at is null order by id",
                            (routing_key,)).fetchall()
        conn.execute("update outbox set sent_at = now() where routing_key = %s and sent_at is null", (routing_key,))
    return [json.loads(row["body"]) for row in rows]


def decide_pending_credit(deps) -> None:
    """What the credit engine and the credit-result consumer do with the credit requests in the outbox
    (in process: the messaging itself is tested with the real workers)."""
    for request in take_from_outbox(deps, CREDIT_REQUEST):
        decision = credit_engine.decide_credit(deps.rules, date.today(), request)
        credit_application.apply_credit_decision(deps, decision)


def approve(deps, partner: Partner, amount: int = 1_000_000, term: int = 6, **person) -> tuple[str, dict]:
    """Push an order and take it through credit: status 12."""
    order_no, who = push(partner, amount, term, **person)
    credit_application.pull_credit_data(deps)
    credit_application.parse_orders(deps)
    credit_application.apply_credit(deps)
    decide_pending_credit(deps)
    return order_no, who


def review_pending(deps) -> None:
    """What the credit engine and the audit-result consumer do with the audit requests in the outbox."""
    for request in take_from_outbox(deps, AUDIT_REQUEST):
        decision = credit_engine.decide_review(deps.rules, date.today(), request)
        call_settlement.send_all(deps, disbursement.apply_review(deps, decision))


def borrow_with_open_account(deps, partner: Partner, users: UserCenterStandIn, amount: int = 1_000_000,
                             term: int = 6, balance: int = 0, **person) -> tuple[str, str]:
    """An approved order whose borrower has an open account (with ``balance`` fen) and confirmed: borrow 0.
    Returns (orderNo, userNo)."""
    order_no, who = approve(deps, partner, amount, term, **person)
    user = deps.user_center.find_or_create(who["mobile"], who["name"], who["idNumber"])
    users.open_account(user["userNo"], balance)
    assert partner.ok("loan/confirm", {"orderNo": order_no})["status"] == "ACCEPTED"
    return order_no, user["userNo"]


def disburse(deps) -> None:
    """Review every borrow waiting for it, then run the disburse job once (the bank stand-in answers at once)."""
    review_pending(deps)
    call_settlement.send_all(deps, disbursement.start_due(deps))


def disbursed_loan(deps, partner: Partner, users: UserCenterStandIn, amount: int = 1_000_000, term: int = 6,
                   balance: int = 0, **person) -> tuple[str, str]:
    """A loan disbursed to a borrower with an open account: borrow 30. Returns (orderNo, userNo)."""
    order_no, user_no = borrow_with_open_account(deps, partner, users, amount, term, balance, **person)
    disburse(deps)
    return order_no, user_no


def refused_postings(db) -> dict[str, int]:
    """By eid, the net amount of the postings the ledger refused (anomalies waiting for an operator)."""
    rows = db.execute("select eid, sum(case when op = 'deduct' then -amount else amount end)::bigint as net"
                      " from ledger_postings where status = 2 group by eid").fetchall()
    return {row["eid"]: row["net"] for row in rows}


def agree(bank: DepositoryStandIn, ledger: LedgerClient, user_nos, db=None) -> dict:
    """``{userNo: (bank available, ledger balance)}`` for the users whose two figures differ; with ``db``, a
    posting the ledger refused counts as a difference too (under the eid ``refused:<eid>``)."""
    refused = refused_postings(db) if db is not None else {}
    differ = {f"refused:{eid}": (refused[eid], 0) for eid in user_nos if eid in refused}
    for user_no in user_nos:
        bank_available = bank.balance(user_no).available
        try:
            ledger_balance = ledger.balance(user_no)["balance"]
        except Exception:  # no wallet yet: nothing posted
            ledger_balance = 0
        if bank_available != ledger_balance:
            differ[user_no] = (bank_available, ledger_balance)
    return differ
