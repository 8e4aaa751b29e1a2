"""Ledger test fixtures: the run's migrated ledger database, an in-process app, direct SQL."""
import uuid

import psycopg
import pytest

from beanpay_ledger.bootstrap import create_app, dependencies

SERVICE = "beanpay_ledger"


@pytest.fixture(scope="session")
def ledger_url(infra) -> str:
    """This run's migrated ledger database."""
    return infra.migrated_database(SERVICE)


@pytest.fixture(scope="session")
def ledger_app(infra, ledger_url):
    app = create_app(infra.config(SERVICE))
    yield app
    dependencies(app).close()


class ApiClient:
    """The in-process app's test client with the service token; answers ``(status, json)``."""

    def __init__(self, app, token: str):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body=None, **kwargs):
        response = self.client.post(path, json=body, headers=kwargs.pop("headers", self.headers), **kwargs)
        return response.status_code, response.get_json(silent=True)

    def get(self, path: str, params: dict | None = None, **kwargs):
        response = self.client.get(path, query_string=params, headers=kwargs.pop("headers", self.headers), **kwargs)
        return response.status_code, response.get_json(silent=True)


@pytest.fixture(scope="session")
def api(ledger_app, infra) -> ApiClient:
    return ApiClient(ledger_app, infra.internal_token)


@pytest.fixture(scope="session")
def db(ledger_url):
    """A direct autocommit connection to the ledger database (tuple rows), shared by the run's tests."""
    with psycopg.connect(ledger_url, autocommit=True) as conn:
        yield conn


def new_id(prefix: str = "e") -> str:
    """A fresh identifier, so tests sharing the database never collide."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def account(api):
    """A fresh wallet's eid, opened with no credit."""
    eid = new_id("acct")
    assert api.post("/account/create", {"eid": eid, "name": "test"})[0] == 200
    return eid


@pytest.fixture
def funded(api, account):
    """A fresh wallet holding 10,000 fen."""
    assert api.post("/account/balance/add", {"eid": account, "trade_no": "fund", "amount": 10_000})[0] == 200
    return account
