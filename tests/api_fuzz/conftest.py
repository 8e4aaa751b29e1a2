"""The platform for API fuzzing: every service and the workers that open accounts, started once.

The fuzzing runs on infrastructure of its own (databases, RabbitMQ vhost, Redis prefix): it leaves
thousands of odd rows, pending requests, bank notifications nobody will ever acknowledge and
failed-login counters for 127.0.0.1, none of which may reach the other tests of the run.
"""
import pytest

from tests.api_fuzz.lending_seeds import LendingStack, seed, start_lending_stack
from tests.api_fuzz.seeds import SeededUser, new_user, open_user
from tests.e2e.conftest import FAST as E2E_FAST
from tests.support.infra import Infra, separate_infra
from tests.support.stack import start_stack
from tests.user_center.standins import LendingStandIn, loan_of

# Short retry and poll intervals so the seeded account opening settles in about a second: the end-to-end
# timings of the workers started here.
FAST = {key: E2E_FAST[key] for key in ("NOTIFIER_BACKOFF_BASE_SECONDS", "NOTIFIER_BACKOFF_MAX_SECONDS",
                                       "NOTIFIER_POLL_SECONDS", "OUTBOX_POLL_MS")}
# Only what opening a seeded user's depository account needs: bank -> agent -> RabbitMQ -> user-center.
WORKERS = ("notifier", "outbox_relay", "gateway_notify")


@pytest.fixture(scope="package")
def fuzz_infra(infra) -> Infra:
    """Databases, vhost and Redis prefix for the fuzzing only, on the run's servers, keys and token."""
    with separate_infra(infra) as own:
        yield own


@pytest.fixture(scope="package")
def fuzz_stack(fuzz_infra, tmp_path_factory):
    """All five services on free ports, wired to each other, on the fuzzing's own infrastructure; user-center
    reads its users' loans (``/my/loans``) from a lending stand-in that gives every user one loan."""
    lending = LendingStandIn(fuzz_infra.internal_token, every_user=loan_of).start()
    running = start_stack(fuzz_infra, tmp_path_factory.mktemp("fuzz-stack"),
                          settings={**FAST, "LENDING_URL": lending.url}, worker_names=WORKERS)
    yield running
    running.stop()
    lending.stop()


@pytest.fixture(scope="package")
def opened_user(fuzz_stack, fuzz_infra) -> SeededUser:
    """A user-center user with an OPENED depository account and ¥10,000,000.00 in the ledger."""
    return open_user(fuzz_stack, fuzz_infra.internal_token)


@pytest.fixture(scope="package")
def fresh_user(fuzz_stack) -> SeededUser:
    """A user-center user who has not opened a depository account yet."""
    return new_user(fuzz_stack.url("user_center"))


@pytest.fixture(scope="package")
def lending_stack(fuzz_stack, fuzz_infra, tmp_path_factory) -> LendingStack:
    """lending and partner-sandbox beside the stack's ledger, the stand-ins of what they need from the agent
    and user-center, and orders seeded at each stage."""
    running = start_lending_stack(fuzz_infra, fuzz_stack.url("beanpay_ledger"), tmp_path_factory.mktemp("lending"))
    try:
        seed(running)
        yield running
    finally:
        running.stop()
