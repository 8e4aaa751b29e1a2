"""Fixtures shared by every test: the run's infrastructure, dev keys, and real processes."""
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from shared.devkeys import generate
from tests.support.infra import Infra, docker_available, reachable
from tests.support.processes import WebService, Worker


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
