"""PRODUCTION=true: no RSA key under 2048 bits, whatever MIN_KEY_BITS says, at start or in a notification."""
import shutil

import pytest
from Crypto.PublicKey import RSA

from shared.signing import WeakKeyError, encode_wanxin, load_key
from tests.depository_agent.conftest import PLATFORM_NO, bank_result, recharge_body, record_of

from depository_agent.bootstrap import build, create_app


@pytest.fixture(scope="module")
def short_keys(infra, tmp_path_factory):
    """The run's keys plus a 1024-bit bank key pair (``bank_short_*.pem``) and platform key."""
    folder = tmp_path_factory.mktemp("short-keys")
    shutil.copytree(infra.keys_dir, folder, dirs_exist_ok=True)
    for name in ("bank_short", "platform_short"):
        key = RSA.generate(1024)
        (folder / f"{name}_private.pem").write_bytes(key.export_key(pkcs=8))
        (folder / f"{name}_public.pem").write_bytes(key.publickey().export_key())
    return folder


def agent(infra, **settings):
    return create_app(infra.config("depository_agent", **settings))


@pytest.mark.parametrize("setting, filename", [("BANK_PUBLIC_KEY_PATH", "bank_short_public.pem"),
                                               ("PLATFORM_PRIVATE_KEY_PATH", "platform_short_private.pem")])
def test_production_refuses_to_start_with_a_short_key(infra, short_keys, setting, filename):
    short = {setting: str(short_keys / filename), "MIN_KEY_BITS": 1024}
    with pytest.raises(WeakKeyError, match="at least 2048"):
        agent(infra, PRODUCTION=True, **short)
    with pytest.raises(WeakKeyError):  # nor do the compensation worker and the operator commands
        build(infra.config("depository_agent", PRODUCTION=True, **short), "depository-agent.compensation")
    agent(infra, **short).extensions["depository_agent"].close()  # outside production the configured minimum rules


def notify_with_short_key(app, short_keys, auth):
    client = app.test_client()
    body = recharge_body()
    assert client.post("/l/recharges", json=body, headers=auth).status_code == 200
    short_key = load_key(str(short_keys / "bank_short_private.pem"), min_bits=1024)
    req_data, signature = encode_wanxin(bank_result("RECHARGE", body["requestNo"]), short_key)
    message = {"serviceName": "RECHARGE", "platformNo": PLATFORM_NO, "reqData": req_data, "signature": signature}
    return client.get("/gateway", query_string=message), body["requestNo"]


def test_production_refuses_a_notification_signed_by_a_short_key(infra, short_keys, auth, db):
    lenient = agent(infra, MIN_KEY_BITS=1024, BANK_PUBLIC_KEY_PATH=str(short_keys / "bank_short_public.pem"))
    answer, request_no = notify_with_short_key(lenient, short_keys, auth)
    assert answer.status_code == 200 and answer.text == "OK"  # a development setting may accept it
    assert record_of(db, request_no)["request_status"] == 1
    lenient.extensions["depository_agent"].close()

    production = agent(infra, PRODUCTION=True, MIN_KEY_BITS=1024)
    assert production.config["MIN_KEY_BITS"] == 2048
    answer, request_no = notify_with_short_key(production, short_keys, auth)
    assert answer.status_code == 400 and answer.get_json()["code"] == 910
    assert record_of(db, request_no)["request_status"] == 0
    production.extensions["depository_agent"].close()
