"""README.md stays true to the code: every setting, every Makefile target it names, every Procfile process."""
import importlib
import re
from pathlib import Path

import pytest

from shared.config import COMMON_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SERVICES = ("user_center", "depository_agent", "bank_callback", "beanpay_ledger", "bank_sandbox", "lending",
            "partner_sandbox")


def _configuration_section() -> str:
    return README.split("## Configuration", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_of_the_code_is_in_the_configuration_table(service):
    defaults = importlib.import_module(f"{service}.config").DEFAULTS
    section = _configuration_section()
    missing = [key for key in {**COMMON_DEFAULTS, **defaults} if f"`{key}`" not in section]
    assert not missing, f"README configuration lacks {missing}"


def test_every_make_target_named_in_readme_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make ([a-z-]+)`", README))
    assert named and named <= targets, named - targets


def test_every_procfile_process_is_named_in_readme():
    processes = [line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    assert processes
    assert all(name in README for name in processes), [n for n in processes if n not in README]
