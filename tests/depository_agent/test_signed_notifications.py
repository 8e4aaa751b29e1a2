"""Property: of all the ways to write a genuine bank notification otherwise, the agent's real /gateway
accepts none that could mean something else, and whatever it accepts has exactly the genuine effect.

The agent runs as a real gunicorn process on the run's database; each example is a fresh pending
request, a variant of its genuine notification (tests/support/wanxin_variants.py), and then the
genuine notification itself, which must still settle the request exactly once.
"""
import os

import psycopg
import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from shared.signing import load_key

from tests.depository_agent.conftest import PATHS, SERVICE, bank_result
from tests.support.processes import WebService
from tests.support.wanxin_variants import genuine, variants

pytestmark = pytest.mark.e2e

OTHER_FIELDS = {
    "PERSONAL_REGISTER": {"transactionStatus": "SUCCESS", "amount": "100.00", "userNo": "USR_" + "0" * 32},
    "RECHARGE": {"bankCode": "ICBC", "bankName": "工商银行", "commission": "1.00"},
    "WITHDRAW": {"bankCode": "ICBC", "bankName": "工商银行", "cardNumber": "6222021234567890123"},
}


@pytest.fixture(scope="module")
def agent(infra, agent_db, tmp_path_factory):
    service = WebService(SERVICE, infra.service_env(SERVICE), tmp_path_factory.mktemp("agent"), workers=1).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def conn(agent_db):
    with psycopg.connect(agent_db, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def _state(conn, request_no: str) -> tuple:
    record = conn.execute("select request_status, response_data from depository_record where request_no = %s",
                          (request_no,)).fetchone()
    outbox = conn.execute("select body from outbox where message_id like %s", (f"%:{request_no}",)).fetchall()
    return record["request_status"], record["response_data"], len(outbox)


def _send(agent, service_name: str, variant, method: str, path: str) -> requests.Response:
    params = {"serviceName": service_name, "platformNo": "WANXINP2P"}
    if variant.raw_query:  # reqData and signature as they are: a '+' reaches the agent as a space
        query = "&".join(f"{name}={value}" for name, value in
                         {**params, "reqData": variant.req_data, "signature": variant.signature}.items())
        return requests.request(method, f"{agent.url}{path}?{query}", timeout=10)
    return requests.request(method, f"{agent.url}{path}", timeout=10,
                            params={**params, "reqData": variant.req_data, "signature": variant.signature})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), service_name=st.sampled_from(list(PATHS)), success=st.booleans(),
       method=st.sampled_from(["GET", "POST"]), path=st.sampled_from(["/gateway", "/gateway/"]))
def test_no_other_writing_of_a_notification_means_anything_else(agent, infra, conn, data, service_name, success,
                                                                method, path):
    route, build = PATHS[service_name]
    body = build()
    created = requests.post(f"{agent.url}{route}", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {infra.internal_token}"})
    assert created.status_code == 200, created.text
    payload = bank_result(service_name, body["requestNo"], success=success, amount=body.get("amount", "100.00"))
    key = load_key(os.path.join(infra.keys_dir, "bank_private.pem"))
    variant = data.draw(variants(payload, key, OTHER_FIELDS[service_name]), label="variant")
    settled = (1 if success else 2, payload, 1)

    answer = _send(agent, service_name, variant, method, path)
    event(f"{'accepted' if answer.status_code == 200 else 'refused'}: {variant.name.split(' (')[0]}")
    if variant.must_refuse:
        assert 400 <= answer.status_code < 500, (variant.name, answer.status_code, answer.text[:300])
    if answer.status_code == 200:
        assert answer.text == "OK"
        assert _state(conn, body["requestNo"]) == settled, variant.name
    else:
        assert 400 <= answer.status_code < 500, (variant.name, answer.status_code, answer.text[:300])
        assert _state(conn, body["requestNo"]) == (0, None, 0), variant.name

    again = _send(agent, service_name, genuine(payload, key), method, path)
    assert again.status_code == 200 and again.text == "OK", again.text
    assert _state(conn, body["requestNo"]) == settled
