"""The bank-customers Redis hash is a copy: callbacks work without Redis, and the copy is rebuilt.

Redis being down is simulated by pointing REDIS_URL at a closed port (the shared Redis server of
the test run keeps running for the other tests); the real stop/start belongs to the chaos campaign.
"""
import json
import time

from tests.bank_callback.huifu_messages import netsave_fields, register_fields
from tests.bank_callback.operator_commands import run_command
from tests.support.metrics import scrape, value
from tests.support.processes import free_port


def _dead_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def test_callbacks_are_stored_and_answered_while_redis_is_down(make_app, infra, sign_register, sign_netsave,
                                                              stored, redis_client, cache_key):
    client = make_app(REDIS_URL=_dead_redis_url()).test_client()
    registers = [register_fields() for _ in range(3)]
    started = time.monotonic()
    for fields in registers:
        response = client.post("/register", data=sign_register(fields))
        assert response.get_data(as_text=True) == f"RECV_ORD_ID_{fields['TrxId']}"
    saving = netsave_fields(registers[0]["UsrCustId"])
    assert client.post("/netsave", data=sign_netsave(saving)).get_data(as_text=True) == f"RECV_ORD_ID_{saving['TrxId']}"
    assert time.monotonic() - started < 5, "a dead Redis must not stall callbacks"
    assert client.get("/readyz").status_code == 200  # the cache is a copy: the service stays in rotation
    assert value(scrape(client, "bank_callback_"), "bank_callback_redis_up") == 0  # ... and operators see Redis
    assert {row[0] for row in stored("bank_customers")} == {f["UsrId"] for f in registers}
    assert redis_client.hlen(cache_key) == 0

    check = run_command(infra, "cache", "check")
    assert check.returncode == 1
    assert set(json.loads(check.stdout.splitlines()[0])["missing"]) == {f["UsrId"] for f in registers}

    rebuilt = run_command(infra, "cache", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout
    assert redis_client.hgetall(cache_key) == {f["UsrId"]: f["UsrCustId"] for f in registers}
    assert run_command(infra, "cache", "check").returncode == 0


def test_rebuild_replaces_stale_and_extra_entries(client, infra, sign_register, redis_client, cache_key):
    fields = register_fields()
    client.post("/register", data=sign_register(fields))
    redis_client.hset(cache_key, mapping={fields["UsrId"]: "6000060000000000", "ghost": "6000060000000001"})
    check = run_command(infra, "cache", "check")
    found = json.loads(check.stdout.splitlines()[0])
    assert check.returncode == 1
    assert found["stale"] == {fields["UsrId"]: {"table": fields["UsrCustId"], "cache": "6000060000000000"}}
    assert found["extra"] == {"ghost": "6000060000000001"}
    assert run_command(infra, "cache", "rebuild").returncode == 0
    assert redis_client.hgetall(cache_key) == {fields["UsrId"]: fields["UsrCustId"]}
    assert redis_client.ttl(cache_key) == -1  # the renamed temporary key keeps no expiry
    assert [key for key in redis_client.scan_iter(f"{cache_key}:rebuild:*")] == []


def test_cache_commands_report_an_unreachable_redis(infra):
    for action in ("rebuild", "check"):
        result = run_command(infra, "cache", action, REDIS_URL=_dead_redis_url())
        assert result.returncode == 2
        assert "redis unreachable" in result.stdout
