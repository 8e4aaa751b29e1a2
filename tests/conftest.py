"""Fixtures shared by every test: the run's infrastructure, dev keys, and real processes."""
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from hypothesis import settings

from shared.devkeys import generate
from tests.support.infra import Infra, docker_available, reachable
from tests.support.processes import WebService, Worker


# Property tests judge behaviour, never speed: a slow example on a loaded machine is not a failure (speed is
# measured in bench/), so hypothesis's per-example deadline is off for the whole suite.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


# How `make test` shares the suite out: the tests marked ``serial`` run after all the others, alone; the
# others on one xdist worker per core (see the Makefile).
#
# Serial: tests that need the machine to themselves, each asserting within a window of a second or two
# that a test running beside it could close (the unfrozen ledger worker answering a release within the
# caller's 2 s timeout; a bank request used within the second before its expiry; a call answered within
# 1 s while Redis is down; two lockouts whose answers count down the same whole seconds). The fault
# campaign is marked in its own file. Named by file and test rather than by path, so that the list holds
# wherever their directory moves.
SERIAL = {
    ("test_holds.py", "test_a_deduct_that_reaches_the_ledger_after_its_release_is_refused_for_good"),
    ("test_expiry.py", "test_confirmed_one_second_before_expiry_and_refused_one_second_after"),
    ("test_expiry.py", "test_a_page_opened_in_time_cannot_be_confirmed_once_expired"),
    ("test_expiry.py", "test_the_query_closes_a_request_still_pending_after_its_expiry"),
    ("test_login_limits.py", "test_with_redis_down_the_limits_hold_in_process"),
    ("test_login_limits.py", "test_a_locked_account_answers_exactly_like_an_unknown_mobile"),
}


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if (item.path.name, item.originalname) in SERIAL:
            item.add_marker(pytest.mark.serial)


# Under ``--dist loadscope`` xdist gives each worker whole modules, so that module fixtures start once.
# These directories share costlier fixtures beyond one module, so each goes to one worker whole: the API
# fuzzing's stack (package scope), and lending's world of processes, which partner-sandbox's tests use
# too (session scope).
WHOLE_DIRECTORIES = {"api_fuzz": "api_fuzz", "lending": "lending", "partner_sandbox": "lending"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WholeDirectoryScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            parts = nodeid.split("::", 1)[0].split("/")
            if len(parts) > 2 and parts[0] == "tests" and parts[1] in WHOLE_DIRECTORIES:
                return f"tests/{WHOLE_DIRECTORIES[parts[1]]}"
            return super()._split_scope(nodeid)

    return WholeDirectoryScheduling(config, log)


# A test parametrized with a freshly generated identifier (``REQ_`` + 32 hex digits) would carry another
# name in every process, and xdist's workers must collect the same tests: it is named by the shape.
GENERATED_HEX = re.compile(r"(?<=_)[0-9A-Fa-f]{32}(?![0-9A-Za-z])")


def pytest_make_parametrize_id(val):
    if isinstance(val, str) and GENERATED_HEX.search(val):
        return GENERATED_HEX.sub("<hex32>", val)
    return None


def _server_url(env_name: str, default: str, image: str, container_url) -> str:
    """The URL from the environment or the local default; a testcontainer where neither answers."""
    url = os.environ.get(env_name, default)
    parsed = urlparse(url)
    if reachable(parsed.hostname, parsed.port):
        return url
    if not docker_available():
        pytest.exit(f"{env_name}: nothing answers at {parsed.hostname}:{parsed.port} and no Docker engine "
                    f"to start {image}; start the server (see README) or set {env_name}", returncode=3)
    return container_url(image)


def _pg_container(image):
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer(image, username="postgres", password="postgres").start()
    return f"postgresql://postgres:postgres@{container.get_container_host_ip()}:{container.get_exposed_port(5432)}"


def _rabbit_container(image):
    from testcontainers.rabbitmq import RabbitMqContainer

    container = RabbitMqContainer(image).start()
    return f"amqp://guest:guest@{container.get_container_host_ip()}:{container.get_exposed_port(5672)}"


def _redis_container(image):
    from testcontainers.redis import RedisContainer

    container = RedisContainer(image).start()
    return f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"


@pytest.fixture(scope="session")
def infra(tmp_path_factory) -> Infra:
    """This run's own databases, vhost, Redis prefix, keys and internal token; removed afterwards."""
    run = Infra(
        pg_server_url=_server_url("TEST_PG_SERVER_URL", "postgresql://postgres@127.0.0.1:5432",
                                  "postgres:15", _pg_container),
        amqp_server_url=_server_url("TEST_AMQP_SERVER_URL", "amqp://guest:guest@127.0.0.1:5672",
                                    "rabbitmq:3.12", _rabbit_container),
        redis_url=_server_url("TEST_REDIS_URL", "redis://127.0.0.1:6379/0", "redis:7", _redis_container),
    )
    keys = tmp_path_factory.mktemp("keys")
    generate(str(keys))
    run.keys_dir = str(keys)
    run.internal_token = (keys / "internal_token").read_text().strip()
    run.setup()
    yield run
    run.teardown()


@pytest.fixture
def procs(tmp_path):
    """Start real processes (``procs.web(package, env)``, ``procs.worker(module, env)``); all stop afterwards."""
    started = []

    class Launcher:
        log_dir: Path = tmp_path

        def web(self, package: str, env: dict, workers: int = 2, port: int | None = None) -> WebService:
            service = WebService(package, env, tmp_path, workers=workers, port=port)
            started.append(service)
            return service.start()

        def worker(self, module: str, env: dict, name: str | None = None) -> Worker:
            worker = Worker(module, env, tmp_path, name=name)
            started.append(worker)
            return worker.start()

    yield Launcher()
    for process in reversed(started):
        process.stop()
