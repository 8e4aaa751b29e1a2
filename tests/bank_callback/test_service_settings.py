"""Start-up and readiness of bank-callback under gunicorn: what production refuses, what /readyz needs."""
import pytest
import requests

from tests.bank_callback.huifu_messages import register_fields
from tests.support.metrics import parse, value
from tests.support.processes import free_port


def _redis_up(url: str) -> float:
    return value(parse(requests.get(f"{url}/metrics", timeout=5).text, "bank_callback_redis"), "bank_callback_redis_up")


def test_readiness_does_not_depend_on_redis_which_metrics_still_show(procs, infra, server, sign_register, stored):
    """The cache is a read-through copy: without Redis, callbacks are stored and answered, so the service
    stays ready (in rotation); operators see Redis on /metrics and with `cache check`."""
    without_redis = procs.web("bank_callback", infra.service_env(
        "bank_callback", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    ready = requests.get(f"{without_redis.url}/readyz", timeout=5)
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
    fields = sign_register(register_fields())
    assert requests.post(f"{without_redis.url}/register", data=fields, timeout=5).text == \
        f"RECV_ORD_ID_{fields['TrxId']}"
    assert stored("bank_customers") == [(fields["UsrId"], fields["UsrCustId"], False)]
    assert _redis_up(without_redis.url) == 0
    assert _redis_up(server.url) == 1
    assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200


@pytest.mark.parametrize("hash_name", ["MD5", "SHA1"])
def test_production_refuses_a_weak_hash_unless_this_bank_is_declared_to_use_it(procs, infra, sign_register, hash_name):
    production = {"PRODUCTION": "true", "HUIFU_SIGN_HASH": hash_name, "HUIFU_CALLBACK_URL": "http://127.0.0.1:8003"}
    other = "SHA1" if hash_name == "MD5" else "MD5"
    for opt_in in ("", other, "true"):
        with pytest.raises(RuntimeError, match="HUIFU_ALLOW_WEAK_HASH"):
            procs.web("bank_callback", infra.service_env("bank_callback", **production, HUIFU_ALLOW_WEAK_HASH=opt_in))
    declared = procs.web("bank_callback", infra.service_env("bank_callback", **production,
                                                            HUIFU_ALLOW_WEAK_HASH=hash_name.lower()))
    fields = register_fields()
    answer = requests.post(f"{declared.url}/register", data=sign_register(fields, hash_name), timeout=5)
    assert answer.text == f"RECV_ORD_ID_{fields['TrxId']}"
    outside_production = procs.web("bank_callback", infra.service_env("bank_callback", HUIFU_SIGN_HASH=hash_name))
    assert requests.get(f"{outside_production.url}/readyz", timeout=5).status_code == 200


def test_production_needs_the_callback_url_the_bank_was_given(procs, infra, sign_register):
    """In production the cluster-internal BANK_CALLBACK_URL is not what the bank signs: starting without
    HUIFU_CALLBACK_URL would refuse every callback, so the service does not start."""
    with pytest.raises(RuntimeError, match="HUIFU_CALLBACK_URL"):
        procs.web("bank_callback", infra.service_env("bank_callback", PRODUCTION="true"))
    public = procs.web("bank_callback", infra.service_env(
        "bank_callback", PRODUCTION="true", HUIFU_CALLBACK_URL="https://pay.example.com/huifu/",
        BANK_CALLBACK_URL="http://bank-callback:8003"))
    fields = register_fields(BgRetUrl="https://pay.example.com/huifu/register",
                             RetUrl="https://pay.example.com/huifu/RegisterCallback")
    assert requests.post(f"{public.url}/register", data=sign_register(fields), timeout=5).status_code == 200
    internal = register_fields(BgRetUrl="http://bank-callback:8003/register",
                               RetUrl="http://bank-callback:8003/RegisterCallback")
    answer = requests.post(f"{public.url}/register", data=sign_register(internal), timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == 911
