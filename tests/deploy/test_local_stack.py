"""`make run` and `make up` (read with `make -n`, nothing run): every service of the Procfile answers, then the
funder is opened and funded where lending reads it (tests/e2e/test_funder.py runs the funder itself)."""
import re
import shlex
import subprocess
from decimal import Decimal

import pytest

from shared.funder import DEFAULT_AMOUNT
from tests.deploy.layout import REPO, SPEC_PORTS

LOCAL = dict(line.split("=", 1) for line in (REPO / "deploy" / "local.env").read_text().splitlines()
             if line and not line.startswith("#"))


def dry_run(target: str) -> list[str]:
    """The shell lines ``make <target>`` would run."""
    return subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, check=True,
                          timeout=60).stdout.splitlines()


def funder_argv(lines: list[str]) -> tuple[int, list[str]]:
    [(index, line)] = [(i, line) for i, line in enumerate(lines) if "-m shared.funder" in line]
    command = line.split("-m shared.funder", 1)[1].split("||")[0].split("&")[0]
    return index, shlex.split(command)


@pytest.mark.parametrize("target", ["run", "up"])
def test_the_funder_is_written_where_lending_reads_it(target):
    index, argv = funder_argv(dry_run(target))
    assert argv[argv.index("--output") + 1] == LOCAL["FUNDER_USER_NOS_FILE"]
    assert argv[argv.index("--state") + 1].startswith("deploy/keys/"), "git-ignored, beside the dev keys"
    assert Decimal(LOCAL["SANDBOX_CARD_BALANCE"]) >= Decimal(DEFAULT_AMOUNT), "the funder's card holds its amount"


def test_up_funds_only_after_every_service_answers_and_fails_when_the_funder_cannot_be_funded():
    lines = dry_run("up")
    index, _ = funder_argv(lines)
    health = [i for i, line in enumerate(lines) if "/healthz" in line]
    assert health and max(health) < index
    assert "|| {" in lines[index] and "exit 1" in lines[index]
    urls = " ".join(line for line in (REPO / "Makefile").read_text().splitlines() if "=http://127.0.0.1:" in line)
    assert {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", urls)} == set(SPEC_PORTS.values())


def test_run_funds_in_the_background_of_the_foreground_stack():
    lines = dry_run("run")
    index, argv = funder_argv(lines)
    assert lines[index].rstrip(" \\").endswith("&"), "the stack runs in the foreground; the funder waits for it"
    assert "--wait" in argv and lines[index + 1].startswith("honcho start")
    assert any("http://127.0.0.1:8007/" in line for line in lines[:index]), "the partner sandbox page is printed"
