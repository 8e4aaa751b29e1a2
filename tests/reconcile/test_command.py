"""The command's exit code when a source cannot be read: 2, nothing written, nothing changed."""
import os
import subprocess
import sys

from tests.support.processes import ROOT


def test_an_unreachable_bank_makes_the_run_incomplete(infra, tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}",
           **infra.service_env("depository_agent", BANK_SANDBOX_URL="http://127.0.0.1:9")}
    csv_path = tmp_path / "out.csv"
    done = subprocess.run([sys.executable, "-m", "depository_agent", "reconcile", "--date", "2024-02-29",
                           "--csv", str(csv_path)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "incomplete: bank statement unreachable" in done.stderr
    assert not csv_path.exists()


def test_a_bad_date_is_refused_by_the_parser(infra):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}", **infra.service_env("depository_agent")}
    done = subprocess.run([sys.executable, "-m", "depository_agent", "reconcile", "--date", "2024-13-01"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid" in done.stderr
