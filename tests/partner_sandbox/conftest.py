"""partner-sandbox fixtures: the sandbox in process on its own database, and for the flows that cross
into lending, the lending fixtures (its databases, the real ledger and partner-sandbox processes, the
stand-ins of the agent and user-center) shared with tests/lending."""
import psycopg
import pytest
from psycopg.rows import dict_row

from tests.lending.conftest import (bank, config, deps, funder, ledger, lending_env, lending_infra,  # noqa: F401
                                    lending_port, sandbox, secret, settings, users)

from partner_sandbox.bootstrap import create_app


@pytest.fixture(scope="session")
def sandbox_app(lending_infra, lending_port):
    """The sandbox in process (its own database), pointed at lending's port."""
    return create_app(lending_infra.config("partner_sandbox", LENDING_URL=f"http://127.0.0.1:{lending_port}"))


@pytest.fixture(scope="session")
def client(sandbox_app):
    return sandbox_app.test_client()


@pytest.fixture
def sandbox_db(lending_infra):
    with psycopg.connect(lending_infra.migrated_database("partner_sandbox"), row_factory=dict_row,
                         autocommit=True) as conn:
        yield conn


@pytest.fixture
def faults_reset(client, lending_infra):
    headers = {"Authorization": f"Bearer {lending_infra.internal_token}"}
    yield headers
    client.post("/sim/faults", json={"failFirst": 0, "delayMs": 0}, headers=headers)


@pytest.fixture
def db_lending(lending_infra):
    """A direct connection to lending's database."""
    with psycopg.connect(lending_infra.migrated_database("lending"), row_factory=dict_row, autocommit=True) as conn:
        yield conn
