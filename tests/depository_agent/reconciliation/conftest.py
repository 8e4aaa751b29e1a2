"""The whole platform on databases of its own, so that a day's reconciliation sees only this module's requests."""
import csv

import pytest

from tests.e2e.conftest import FAST
from tests.support.infra import separate_infra
from tests.support.processes import run_module
from tests.support.stack import start_stack


@pytest.fixture(scope="module")
def own_infra(infra):
    """Fresh databases and vhost on the run's servers, with the run's keys and token."""
    with separate_infra(infra) as own:
        yield own


@pytest.fixture(scope="module")
def stack(own_infra, tmp_path_factory):
    # compensation would settle stuck requests by itself: keep it out of the way; dropped
    # notification attempts back off to 5 s, so 100 drops keep a notification away for minutes
    running = start_stack(own_infra, tmp_path_factory.mktemp("stack"), workers=1,
                          settings={**FAST, "COMPENSATION_AGE_SECONDS": "3600", "RECONCILE_VERIFY_SECONDS": "20",
                                    "NOTIFIER_BACKOFF_MAX_SECONDS": "5"})
    yield running
    running.stop()


def reconcile(stack, tmp_path, day: str, *options: str) -> tuple[int, str, str, list[dict]]:
    """Run the operator command as a real process; ``(exit code, stdout, stderr, CSV rows)``."""
    csv_path = tmp_path / f"reconcile-{day}-{len(list(tmp_path.iterdir()))}.csv"
    done = run_module("depository_agent", "reconcile", "--date", day, "--csv", str(csv_path), *options,
                      env=stack.env("depository_agent"), timeout=120)
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8"))) if csv_path.exists() else []
    return done.returncode, done.stdout, done.stderr, rows
