"""deploy/Dockerfile: small multi-stage build, non-root, healthcheck, everything it copies exists,
no key can get in, and the installed package carries every data file the services need."""
import fnmatch
import http.server
import json
import os
import shlex
import subprocess
import sys
import threading
import tomllib

import pytest

from tests.deploy.layout import REPO, compose, stages

DOCKERFILE = REPO / "deploy" / "Dockerfile"
IGNORE = REPO / "deploy" / "Dockerfile.dockerignore"


@pytest.fixture(scope="module")
def build_stages():
    return stages(DOCKERFILE)


def args_of(stage, keyword):
    return [rest for instruction, rest in stage if instruction == keyword]


def resolve_from(rest: str) -> str:
    """A FROM image with ``${ARG}`` replaced by the Dockerfile's global ARG default."""
    defaults = {}
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("ARG ") and "=" in line:
            name, value = line[4:].split("=", 1)
            defaults[name.strip()] = value.strip()
    image = rest.split()[0]
    for name, value in defaults.items():
        image = image.replace("${%s}" % name, value)
    return image


def test_multi_stage_slim_build(build_stages):
    assert len(build_stages) >= 2
    for stage in build_stages:
        assert resolve_from(stage[0][1]) == "python:3.11-slim"
    build, runtime = build_stages[0], build_stages[-1]
    assert any("pip install ." in rest for rest in args_of(build, "RUN")), "the project installs from pyproject.toml"
    assert any(rest.startswith("--from=") for rest in args_of(runtime, "COPY")), "runtime copies the built environment"
    assert not any("pip install" in rest for rest in args_of(runtime, "RUN")), "no build tools in the runtime stage"


def test_runtime_runs_as_a_numeric_non_root_user(build_stages):
    users = args_of(build_stages[-1], "USER")
    assert users, "the final stage sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes' runAsNonRoot can check it"


def copy_sources(stage):
    for rest in args_of(stage, "COPY"):
        parts = shlex.split(rest)
        if any(p.startswith("--from=") for p in parts):
            continue
        yield from [p for p in parts if not p.startswith("--")][:-1]


def test_every_copy_source_exists_and_passes_the_ignore_file(build_stages):
    allowed = [line[1:].rstrip("/") for line in IGNORE.read_text().splitlines() if line.startswith("!")]
    sources = [source for stage in build_stages for source in copy_sources(stage)]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert source.rstrip("/") in allowed, f"{source} is excluded from the build context by {IGNORE.name}"


def test_no_key_can_enter_the_image(build_stages):
    lines = IGNORE.read_text().splitlines()
    assert lines[[i for i, line in enumerate(lines) if not line.startswith("#")][0]] == "*", "context is an allow-list"
    assert "deploy/keys" in lines
    sources = [source for stage in build_stages for source in copy_sources(stage)]
    assert not [s for s in sources if "keys" in s or s.endswith(".pem")]
    env = " ".join(args_of(build_stages[-1], "ENV"))
    assert "KEYS_DIR=/keys" in env


def healthcheck_argv(build_stages):
    rest = args_of(build_stages[-1], "HEALTHCHECK")[-1]
    return json.loads(rest[rest.index("CMD") + 3:].strip())


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    servers = []

    def start(status):
        handler = type("Handler", (_Health,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()


def run_check(argv, port):
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    if port is not None:
        env["PORT"] = str(port)
    assert argv[0] == "python"
    return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, timeout=20).returncode


def test_image_healthcheck_follows_healthz(build_stages, health_server):
    argv = healthcheck_argv(build_stages)
    assert run_check(argv, health_server(200)) == 0
    assert run_check(argv, health_server(503)) != 0
    assert run_check(argv, None) == 0, "a worker (no PORT) is healthy while it runs"


def test_compose_web_healthcheck_follows_healthz(health_server):
    argv = compose()["services"]["user-center"]["healthcheck"]["test"][1:]
    assert run_check(argv, health_server(200)) == 0
    assert run_check(argv, health_server(500)) != 0


def test_installed_package_carries_every_data_file():
    """pip install . copies only files matched by pyproject's package-data: the image needs them all."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["*"]
    missing = []
    for root in [REPO / "shared", *(p for p in (REPO / "services").iterdir() if p.is_dir())]:
        for path in root.rglob("*"):
            if (not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts
                    or path.name.startswith(".")):
                continue
            package = next(parent for parent in path.parents if (parent / "__init__.py").exists())
            relative = path.relative_to(package).parts
            if not any(_glob_match(relative, pattern.split("/")) for pattern in patterns):
                missing.append(str(path.relative_to(REPO)))
    assert not missing, f"not in the installed package (extend [tool.setuptools.package-data]): {missing}"


def _glob_match(parts: tuple[str, ...], pattern: list[str]) -> bool:
    return len(parts) == len(pattern) and all(fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pattern))


def test_grafana_dashboard_charts_metrics_the_services_export():
    """Every metric the dashboard queries is one a service really exports."""
    import json
    import re

    dashboard = json.loads((REPO / "deploy" / "grafana" / "p2p-platform.json").read_text())
    exported = set()
    for path in list((REPO / "services").rglob("*.py")) + list((REPO / "shared").rglob("*.py")):
        exported |= set(re.findall(r'(?:add_gauge\(app, |Counter\(|Histogram\()\s*"([a-z_]+)"', path.read_text()))
        if path.name == "metrics.py":  # gauges listed as (name, help, function) for add_gauge
            exported |= set(re.findall(r'^\s*\("([a-z_]+)", "', path.read_text(), flags=re.MULTILINE))
    queried = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expression = re.sub(r"\{[^}]*\}", "", target["expr"])  # label matchers hold no metric names
            queried |= set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", expression)) - {"histogram_quantile"}
    def base(name: str) -> str:
        return re.sub(r"_(total|bucket)$", "", name)

    assert queried
    missing = {base(name) for name in queried} - {base(name) for name in exported}
    assert not missing, missing
