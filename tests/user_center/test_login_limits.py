"""Failed logins are limited per mobile and per client address, in Redis (or in process when it is down)."""
import time
import uuid

import pytest
import redis

from tests.support.processes import free_port
from tests.user_center.conftest import new_mobile

from user_center.app import create_app

PASSWORD = "secret-pass-1"


def make_app(infra, ledger, agent, **settings):
    return create_app(infra.config(
        "user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url, LOGIN_MAX_FAILURES_PER_MOBILE=3,
        LOGIN_MAX_FAILURES_PER_ADDRESS=5, REDIS_PREFIX=f"{infra.redis_prefix}{uuid.uuid4().hex[:6]}:", **settings))


@pytest.fixture(scope="module")
def limited(infra, ledger, agent):
    return make_app(infra, ledger, agent)


def register(client) -> str:
    mobile = new_mobile()
    assert client.post("/consumers", json={"mobile": mobile, "password": PASSWORD}).status_code == 201
    return mobile


def login(client, mobile: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post("/tokens", json={"mobile": mobile, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_a_mobile_is_refused_after_its_failures_even_with_the_right_password(limited, infra):
    client = limited.test_client()
    mobile, address = register(client), "10.0.1.1"
    for _ in range(3):
        assert login(client, mobile, "wrong-password", address).status_code == 401
    refused = login(client, mobile, PASSWORD, address)
    assert refused.status_code == 429
    assert refused.json["code"] == 929 and "mobile" in refused.json["msg"] and refused.json["result"] is None
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    # the counter lives in Redis under the configured prefix
    keys = redis.Redis.from_url(infra.redis_url).keys(f"{limited.config['REDIS_PREFIX']}login-failures:mobile:{mobile}")
    assert len(keys) == 1
    # another user behind the same address is not affected
    other = register(client)
    assert login(client, other, PASSWORD, address).status_code == 200


def test_a_successful_login_clears_the_mobile_failures(limited):
    client = limited.test_client()
    mobile = register(client)
    for _ in range(2):
        assert login(client, mobile, "wrong-password", "10.0.2.1").status_code == 401
    assert login(client, mobile, PASSWORD, "10.0.2.1").status_code == 200
    for _ in range(2):
        assert login(client, mobile, "wrong-password", "10.0.2.1").status_code == 401
    assert login(client, mobile, PASSWORD, "10.0.2.1").status_code == 200


def test_an_address_is_refused_after_failures_across_mobiles(limited):
    client = limited.test_client()
    for _ in range(5):
        assert login(client, new_mobile(), "wrong-password", "10.0.3.1").status_code == 401
    mobile = register(client)
    refused = login(client, mobile, PASSWORD, "10.0.3.1")
    assert refused.status_code == 429 and "address" in refused.json["msg"]
    assert login(client, mobile, PASSWORD, "10.0.3.2").status_code == 200


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(limited, infra, ledger, agent):
    client = limited.test_client()
    for index in range(5):  # a client rotating X-Forwarded-For is still one address
        assert login(client, new_mobile(), "wrong", "10.0.4.1", **{"X-Forwarded-For": f"1.2.3.{index}"}).status_code == 401
    assert login(client, new_mobile(), "wrong", "10.0.4.1", **{"X-Forwarded-For": "9.9.9.9"}).status_code == 429

    proxied = make_app(infra, ledger, agent, TRUSTED_PROXY_COUNT=1).test_client()
    for _ in range(5):  # behind one trusted proxy the last X-Forwarded-For entry is the client
        assert login(proxied, new_mobile(), "wrong", "10.0.4.9", **{"X-Forwarded-For": "6.6.6.6, 7.7.7.7"}).status_code == 401
    assert login(proxied, new_mobile(), "wrong", "10.0.4.9", **{"X-Forwarded-For": "6.6.6.6, 7.7.7.7"}).status_code == 429
    assert login(proxied, new_mobile(), "wrong", "10.0.4.9", **{"X-Forwarded-For": "7.7.7.8"}).status_code == 401


def test_the_window_ends(infra, ledger, agent):
    client = make_app(infra, ledger, agent, LOGIN_FAILURE_WINDOW_SECONDS=1).test_client()
    mobile = register(client)
    for _ in range(3):
        assert login(client, mobile, "wrong-password", "10.0.5.1").status_code == 401
    assert login(client, mobile, PASSWORD, "10.0.5.1").status_code == 429
    time.sleep(2.1)
    assert login(client, mobile, PASSWORD, "10.0.5.1").status_code == 200


def test_with_redis_down_the_limits_hold_in_process(infra, ledger, agent, capfd):
    client = make_app(infra, ledger, agent, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    mobile = register(client)
    for _ in range(3):
        assert login(client, mobile, "wrong-password", "10.0.6.1").status_code == 401
    started = time.monotonic()
    assert login(client, mobile, PASSWORD, "10.0.6.1").status_code == 429
    assert time.monotonic() - started < 1  # no waiting on the dead Redis for every call
    assert "Redis unreachable" in capfd.readouterr().err  # the JSON log line on stderr
