"""docker-compose.yml runs the Procfile's process set on healthy infrastructure (checked statically)."""
import importlib.util
import re
from decimal import Decimal
from urllib.parse import urlparse

import pytest

from shared.funder import DEFAULT_AMOUNT
from tests.deploy.layout import (DATABASES, REPO, SANDBOX_PACKAGES, SPEC_PORTS, as_argv, bind_of, command_package,
                                 compose, env_dict, procfile, without_bind)

INFRA = {"postgres", "rabbitmq", "redis"}
ONE_SHOT = {"keys", "migrate", "funder"}
PROCESSES = procfile()


@pytest.fixture(scope="module")
def services():
    return compose()["services"]


def platform_services(services):
    return {name: services[name] for name in PROCESSES}


def test_every_procfile_process_is_a_service_with_the_same_command(services):
    assert set(services) == set(PROCESSES) | INFRA | ONE_SHOT
    for name, argv in PROCESSES.items():
        command = as_argv(services[name]["command"])
        assert without_bind(command) == without_bind(argv), name
        if bind_of(argv):
            host, port = bind_of(command)
            assert host == "0.0.0.0", f"{name} must listen on every interface inside its container"
            assert port == bind_of(argv)[1]


def test_every_module_a_service_runs_exists():
    for name, argv in PROCESSES.items():
        module = argv[argv.index("-m") + 1] if "-m" in argv else argv[-1].split(":")[0]
        assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"


def test_web_ports_follow_the_spec_and_healthchecks_hit_healthz(services):
    for name, argv in PROCESSES.items():
        service = services[name]
        if not bind_of(argv):
            assert "ports" not in service, f"worker {name} publishes no port"
            continue
        port = SPEC_PORTS[command_package(argv)]
        assert bind_of(as_argv(service["command"]))[1] == port
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"], f"{name} is published on the loopback only"
        assert env_dict(service["environment"])["PORT"] == str(port)
        check = " ".join(service["healthcheck"]["test"])
        assert "/healthz" in check and "PORT" in check, name


def test_infrastructure_is_healthchecked_and_platform_waits_for_it(services):
    for name in INFRA:
        assert services[name]["healthcheck"]["test"], name
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["rabbitmq"]["image"] == "rabbitmq:3-management"
    assert services["rabbitmq"]["ports"] == ["127.0.0.1:15672:15672"]
    expected = {name: "service_healthy" for name in INFRA}
    expected.update(keys="service_completed_successfully", migrate="service_completed_successfully")
    for name, service in platform_services(services).items():
        conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
        assert conditions == expected, name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_one_shot_jobs_make_keys_and_migrate_every_database(services):
    keys = services["keys"]
    assert as_argv(keys["command"]) == ["python", "-m", "shared.devkeys", "/keys"]
    assert keys["volumes"] == ["keys:/keys"] and keys["restart"] == "no"
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    script = as_argv(migrate["command"])[-1]
    # $$ is compose's escape for a literal $ in the shell loop.
    assert re.search(r"for pkg in ([a-z_ ]+); do python -m \$\$pkg migrate \|\| exit 1; done", script)
    assert re.search(r"for pkg in ([a-z_ ]+);", script).group(1).split() == list(DATABASES)
    server = env_dict(migrate["environment"])["PG_SERVER_URL"]
    assert urlparse(server).hostname == "postgres"


@pytest.mark.parametrize("package", DATABASES)
def test_every_package_has_the_migrate_command(package):
    assert importlib.util.find_spec(f"{package}.__main__") is not None, f"python -m {package} migrate needs {package}/__main__.py"


def test_services_get_their_own_database_and_compose_urls(services):
    for name, argv in PROCESSES.items():
        env = env_dict(services[name]["environment"])
        database = urlparse(env["DATABASE_URL"])
        assert (database.hostname, database.path) == ("postgres", f"/{command_package(argv)}"), name
        assert urlparse(env["AMQP_URL"]).hostname == "rabbitmq"
        assert urlparse(env["REDIS_URL"]).hostname == "redis"
        assert env["KEYS_DIR"] == "/keys"
        assert "keys:/keys:ro" in services[name]["volumes"], f"{name} mounts the keys read-only"
        for setting, service_name, package in [("LEDGER_URL", "beanpay-ledger", "beanpay_ledger"),
                                               ("DEPOSITORY_AGENT_URL", "depository-agent", "depository_agent"),
                                               ("BANK_CALLBACK_URL", "bank-callback", "bank_callback"),
                                               ("BANK_SANDBOX_URL", "bank-sandbox", "bank_sandbox")]:
            assert env[setting] == f"http://{service_name}:{SPEC_PORTS[package]}", (name, setting)
            assert service_name in services


def test_browser_facing_urls_use_localhost(services):
    agent = env_dict(services["depository-agent"]["environment"])
    assert agent["DEPOSITORY_GATEWAY_URL"] == "http://localhost:8005/gateway"
    callback = env_dict(services["bank-callback"]["environment"])
    assert callback["FRONTEND_ENV"] == "local"
    assert callback["FRONTEND_BASE"] == "http://localhost:8001/"


def test_service_to_service_urls_use_compose_names(services):
    """Server-side calls (e.g. the agent's reconciliation asking user-center) use compose service names."""
    for name in ("depository-agent", "user-center", "bank-callback"):
        env = env_dict(services[name]["environment"])
        assert env["USER_CENTER_URL"] == "http://user-center:8001", name
        assert env["LEDGER_URL"] == "http://beanpay-ledger:8004", name


def test_sandbox_is_only_in_its_profile(services):
    sandbox = {name for name, argv in PROCESSES.items() if command_package(argv) in SANDBOX_PACKAGES}
    assert sandbox == {"bank-sandbox", "sandbox-notifier", "partner-sandbox"}
    sandbox.add("funder")  # it funds its account at the bank sandbox
    for name, service in services.items():
        if name in sandbox:
            assert service["profiles"] == ["sandbox"], name
        else:
            assert "profiles" not in service, name
            # A default-profile service may not wait for one that is not started.
            assert not sandbox & set(service.get("depends_on", {})), name


def test_every_dockerfile_referenced_exists(services):
    built = [s for s in services.values() if "build" in s]
    assert built
    for service in built:
        assert (REPO / service["build"]["context"]).resolve() == REPO
        assert (REPO / service["build"]["dockerfile"]).is_file()
        assert service["image"] == built[0]["image"], "one image serves every process"


def test_postgres_init_creates_every_services_database(services):
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    scripts = sorted((REPO / "deploy" / "postgres-init").glob("*.sql"))
    text = "\n".join(path.read_text() for path in scripts)
    created = re.findall(r"^\s*CREATE DATABASE (\w+);", text, flags=re.IGNORECASE | re.MULTILINE)
    assert sorted(created) == sorted(DATABASES)


def test_the_funder_job_funds_at_the_sandbox_once_the_platform_answers_and_lending_reads_its_output(services):
    funder = services["funder"]
    argv = as_argv(funder["command"])
    assert argv[:3] == ["python", "-m", "shared.funder"] and funder["restart"] == "no"
    assert funder["volumes"] == ["keys:/keys"], "it writes the funder's state and userNo next to the keys"
    output = argv[argv.index("--output") + 1]
    assert output.startswith("/keys/") and argv[argv.index("--state") + 1].startswith("/keys/")
    for name, argv_of in PROCESSES.items():
        if command_package(argv_of) == "lending":
            assert env_dict(services[name]["environment"])["FUNDER_USER_NOS_FILE"] == output, name
    conditions = {dep: spec["condition"] for dep, spec in funder["depends_on"].items()}
    assert conditions["user-center"] == conditions["bank-sandbox"] == "service_healthy"
    assert {"gateway-notify-consumer", "outbox-relay", "sandbox-notifier"} <= set(conditions)
    env = env_dict(funder["environment"])
    assert env == {"USER_CENTER_URL": "http://user-center:8001", "BANK_SANDBOX_URL": "http://bank-sandbox:8005"}, \
        "it is a user of the platform's APIs: no database, broker or Redis credentials"
    # the bank may send the browser back only under user-center's prefixes; the card holds what is recharged
    callback = argv[argv.index("--callback-url") + 1]
    allowed = env_dict(services["user-center"]["environment"])["CALLBACK_URL_PREFIXES"].split(",")
    assert any(callback.startswith(prefix) for prefix in allowed)
    card = env_dict(services["bank-sandbox"]["environment"])["SANDBOX_CARD_BALANCE"]
    assert Decimal(card) >= Decimal(DEFAULT_AMOUNT)
