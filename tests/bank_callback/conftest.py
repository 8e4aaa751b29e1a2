"""bank-callback fixtures: the app on this run's real PostgreSQL and Redis, empty tables per test."""
from pathlib import Path

import psycopg
import pytest
import redis

from shared.ledger_client import LedgerClient

from bank_callback.bootstrap import build, create_app, dependencies
from bank_callback.crediting import NetsaveCrediter
from tests.bank_callback.huifu_messages import NETSAVE_ORDER, REGISTER_ORDER, signed
from tests.support.processes import WebService


@pytest.fixture(scope="session")
def callback_db(infra) -> str:
    return infra.migrated_database("bank_callback")


@pytest.fixture(scope="session")
def huifu_private(infra) -> Path:
    return Path(infra.keys_dir) / "huifu_private.pem"


@pytest.fixture
def make_app(infra, callback_db):
    """``make_app(**settings)``: an app of this run; its pool is closed after the test."""
    apps = []

    def make(**settings):
        app = create_app(infra.config("bank_callback", **settings))
        apps.append(app)
        return app

    yield make
    for app in apps:
        dependencies(app).close()


@pytest.fixture(scope="session")
def default_app(infra, callback_db):
    """The app with this run's default settings, shared by the tests that need no special setting."""
    app = create_app(infra.config("bank_callback"))
    yield app
    dependencies(app).close()


@pytest.fixture
def client(default_app):
    return default_app.test_client()


@pytest.fixture
def cache_key(infra) -> str:
    return f"{infra.redis_prefix}bank-customers"


@pytest.fixture
def redis_client(infra):
    return redis.Redis.from_url(infra.redis_url, decode_responses=True)


@pytest.fixture(autouse=True)
def empty_state(callback_db, redis_client, cache_key):
    """Every test starts with empty tables and no cache hash."""
    with psycopg.connect(callback_db, autocommit=True) as conn:
        conn.execute("delete from bank_customers; delete from bank_netsave; delete from huifu_transaction;"
                     " delete from huifu_anomaly")
    redis_client.delete(cache_key)


@pytest.fixture
def db(callback_db):
    """A connection to the service's database for assertions."""
    with psycopg.connect(callback_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def sign_register(huifu_private):
    return lambda fields, hash_name="SHA256": signed(huifu_private, fields, REGISTER_ORDER, hash_name)


@pytest.fixture
def sign_netsave(huifu_private):
    return lambda fields, hash_name="SHA256": signed(huifu_private, fields, NETSAVE_ORDER, hash_name)


@pytest.fixture
def stored(db):
    """``stored(table)``: all rows of ``table``, char columns trimmed, oldest first."""
    columns = {"bank_customers": "rtrim(openid), rtrim(cust_id), deleted",
               "bank_netsave": "rtrim(cust_id), rtrim(ord_id), data::text, done"}
    return lambda table: db.execute(f"select {columns[table]} from {table} order by created_at").fetchall()


@pytest.fixture(scope="module")
def ledger_url(infra, tmp_path_factory):
    """One real ledger process for the module (its database is this run's)."""
    service = WebService("beanpay_ledger", infra.service_env("beanpay_ledger"), tmp_path_factory.mktemp("ledger"))
    yield service.start().url
    service.stop()


@pytest.fixture
def ledger(infra, ledger_url):
    return LedgerClient(ledger_url, infra.config("bank_callback"))


@pytest.fixture
def make_crediter(infra, ledger_url):
    """``make_crediter(**settings)``: a crediter on dependencies of its own, closed after the test."""
    built = []

    def crediter(**settings):
        deps = build(infra.config("bank_callback", **{"LEDGER_URL": ledger_url, **settings}), "test-crediter")
        built.append(deps)
        return NetsaveCrediter.from_config(deps.config, deps.pool, deps.ledger)

    yield crediter
    for deps in built:
        deps.close()


@pytest.fixture(scope="module")
def server(infra, callback_db, tmp_path_factory):
    """bank-callback under gunicorn on this run's database and Redis, for the module."""
    service = WebService("bank_callback", infra.service_env("bank_callback"), tmp_path_factory.mktemp("callback"))
    yield service.start()
    service.stop()
