"""Property: of all the ways to write a genuine signed gateway request otherwise, or to name it as
another service, the bank's real /gateway page and /sandbox/confirm accept none that could mean
something else, and whatever they accept has exactly the genuine effect.

The bank runs as a real gunicorn process on the run's database; each example is a fresh request of
the platform (signed with its key), a variant of it (tests/support/wanxin_variants.py) brought to the
page or to the confirmation, and then the genuine request, which must still be confirmed exactly once.
"""
import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bank_sandbox.bootstrap import dependencies
from tests.bank_sandbox.conftest import PASSWORD, Platform, fetch_one
from tests.support.processes import WebService
from tests.support.wanxin_variants import Variant, genuine, variants

pytestmark = pytest.mark.e2e

SERVICES = ("PERSONAL_REGISTER", "RECHARGE", "WITHDRAW")
OTHER_FIELDS = {
    "PERSONAL_REGISTER": {"amount": "1.00", "commission": "0.10"},
    "RECHARGE": {"commission": "0.10", "idNumber": "110101199003074512", "cardNumber": "6222020200112233445"},
    "WITHDRAW": {"idNumber": "110101199003074512", "role": "I", "fullname": "张三"},
}


@pytest.fixture(scope="module")
def bank(infra, settings, receiver, tmp_path_factory):
    env = infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=receiver.url, SANDBOX_SCRYPT_N=1024)
    service = WebService("bank_sandbox", env, tmp_path_factory.mktemp("bank"), workers=1).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def funded(bank, platform) -> str:
    """A bank user with money in the depository account."""
    user_no = platform.user_no()
    for service, payload in (("PERSONAL_REGISTER", platform.register(user_no)),
                             ("RECHARGE", platform.recharge(user_no, "5000.00"))):
        answer = requests.post(f"{bank.url}/sandbox/confirm", json=platform.confirm_body(service, payload), timeout=10)
        assert answer.status_code == 200 and answer.json()["status"] == 1, answer.text
    return user_no


def _payload(platform: Platform, service: str, user_no: str) -> dict:
    if service == "PERSONAL_REGISTER":
        return platform.register(platform.user_no())
    if service == "RECHARGE":
        return platform.recharge(user_no, "1.00")
    return platform.withdraw(user_no, "0.50", "0.10")


def _bring(bank, endpoint: str, claimed: str | None, variant: Variant) -> requests.Response:
    if endpoint == "confirm":
        body = {"platformNo": "WANXINP2P", "reqData": variant.req_data, "signature": variant.signature,
                "password": PASSWORD}
        return requests.post(f"{bank.url}/sandbox/confirm", timeout=10,
                             json=body if claimed is None else {**body, "serviceName": claimed})
    params = {"serviceName": claimed, "platformNo": "WANXINP2P"}
    if variant.raw_query:
        query = "&".join(f"{name}={value}" for name, value in
                         {**params, "reqData": variant.req_data, "signature": variant.signature}.items())
        return requests.get(f"{bank.url}/gateway?{query}", timeout=10)
    return requests.get(f"{bank.url}/gateway", timeout=10,
                        params={**params, "reqData": variant.req_data, "signature": variant.signature})


def _seen(pool, request_no: str):
    return fetch_one(pool, "select service_name, payload, status from bank_requests where request_no = %s", request_no)


def _balances(pool, user_no: str) -> tuple:
    row = fetch_one(pool, "select card_balance, bank_balance from bank_users where user_no = %s", user_no)
    return row["card_balance"], row["bank_balance"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), service=st.sampled_from(SERVICES), endpoint=st.sampled_from(["page", "confirm"]),
       claim=st.sampled_from(["genuine", "other", "none"]))
def test_no_other_writing_of_a_request_means_anything_else(bank, funded, platform, app, data, service, endpoint,
                                                           claim):
    pool = dependencies(app).pool
    payload = _payload(platform, service, funded)
    variant = data.draw(variants(payload, platform.private, OTHER_FIELDS[service]), label="variant")
    others = [name for name in SERVICES if name != service]
    claimed = {"genuine": service, "other": data.draw(st.sampled_from(others), label="claimed"),
               "none": None}[claim if endpoint == "confirm" or claim != "none" else "genuine"]
    must_refuse = variant.must_refuse or claimed not in (None, service)
    before = _balances(pool, funded)

    answer = _bring(bank, endpoint, claimed, variant)
    event(f"{'accepted' if answer.status_code == 200 else 'refused'} at the {endpoint}: {variant.name.split(' (')[0]}"
          + ("" if claimed in (None, service) else ", as another service"))
    if must_refuse:
        assert 400 <= answer.status_code < 500, (variant.name, claimed, answer.status_code, answer.text[:300])
    seen = _seen(pool, payload["requestNo"])
    if answer.status_code == 200:
        assert (seen["service_name"], seen["payload"]) == (service, payload), variant.name
        if endpoint == "confirm":
            assert seen["status"] == 1 and answer.json()["status"] == 1
    else:
        assert 400 <= answer.status_code < 500, (variant.name, answer.status_code, answer.text[:300])
        assert seen is None, variant.name
        assert _balances(pool, funded) == before

    if seen is None or seen["status"] == 0:  # the genuine request is still confirmed, once
        again = _bring(bank, "confirm", None, genuine(payload, platform.private))
        assert again.status_code == 200 and again.json()["status"] == 1, again.text
    moved = {"PERSONAL_REGISTER": (0, 0), "RECHARGE": (-100, 100), "WITHDRAW": (50, -60)}[service]
    after = _balances(pool, funded)
    assert (after[0] - before[0], after[1] - before[1]) == moved
