"""Each service's CLI: one entry, --help listing its commands, the common migrate and keys."""
import subprocess

import pytest

from tests.support.processes import run_module

SERVICES = {
    "user_center": {"dlq", "holds", "requests"},
    "depository_agent": {"exceptions", "reconcile"},
    "bank_callback": {"netsave", "cache"},
    "beanpay_ledger": set(),
    "bank_sandbox": {"pending", "redeliver"},
}


def _cli(service: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_module(service, *args, env=env or {})


@pytest.mark.parametrize("service", SERVICES)
def test_help_lists_every_command(service):
    result = _cli(service, "--help")
    assert result.returncode == 0
    for command in {"migrate", "keys"} | SERVICES[service]:
        assert command in result.stdout, command


def test_keys_generates_once(tmp_path):
    first = _cli("beanpay_ledger", "keys", env={"KEYS_DIR": str(tmp_path / "keys")})
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "keys" / "bank_private.pem").exists() and (tmp_path / "keys" / "internal_token").exists()
    before = (tmp_path / "keys" / "platform_private.pem").read_bytes()
    again = _cli("bank_sandbox", "keys", env={"KEYS_DIR": str(tmp_path / "keys")})
    assert "already there" in again.stdout
    assert (tmp_path / "keys" / "platform_private.pem").read_bytes() == before
