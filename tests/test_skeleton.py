"""Every service keeps the one skeleton of docs/architecture.md; this fails as soon as one drifts from it."""
import ast
import importlib
import logging
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(path.name for path in (ROOT / "services").iterdir() if (path / "__init__.py").exists())
REQUIRED_FILES = ("__init__.py", "__main__.py", "config.py", "bootstrap.py", "wsgi.py")
REQUIRED_FOLDERS = ("api", "repository", "migrations")
SKELETON_FOLDERS = {"api", "repository", "workers", "migrations", "sql", "templates", "static"}
# The names of the layouts the skeleton replaced: a folder or module by one of these names is a drift.
FORBIDDEN_FOLDERS = {"domain", "views", "repositories", "models", "handlers", "utils", "helpers", "lib", "core"}
FORBIDDEN_MODULES = re.compile(r"(app|views|schemas|repository|metrics|.*_store|.*_repo)\.py")
# Modules of the shell, not use cases: they may import Flask.
SHELL_MODULES = {"bootstrap.py", "wsgi.py", "__main__.py", "config.py", "__init__.py"}
# Test folders that are not a service's.
TEST_FOLDERS = {"api_fuzz", "bench", "browser", "chaos", "deploy", "e2e", "shared", "support"}


def _package(name: str) -> Path:
    return ROOT / "services" / name


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_the_skeletons_files_and_folders(service):
    package = _package(service)
    missing = [name for name in REQUIRED_FILES if not (package / name).is_file()]
    missing += [name + "/" for name in REQUIRED_FOLDERS if not (package / name).is_dir()]
    assert not missing, f"{service} lacks {missing} (docs/architecture.md)"
    assert (package / "api" / "schemas.py").is_file(), f"{service}: request and answer formats go in api/schemas.py"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_nothing_beside_the_skeleton_but_use_cases(service):
    package = _package(service)
    for entry in package.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            assert entry.name not in FORBIDDEN_FOLDERS, f"{service}/{entry.name}/ is not a skeleton folder"
            assert entry.name in SKELETON_FOLDERS or (entry / "__init__.py").exists(), \
                f"{service}/{entry.name}/: a folder is a skeleton folder or a use case's package"
        else:
            assert entry.suffix == ".py", f"{service}/{entry.name}: only Python modules at the top level"
            assert not FORBIDDEN_MODULES.fullmatch(entry.name), \
                f"{service}/{entry.name}: this belongs in api/ or repository/ (docs/architecture.md)"


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_do_not_import_the_web_framework(service):
    package = _package(service)
    for module in package.iterdir():
        if module.suffix != ".py" or module.name in SHELL_MODULES:
            continue
        imported = set()
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & {"flask", "flask_smorest", "werkzeug"}, \
            f"{service}/{module.name} is a use case: the HTTP layer belongs in api/"


@pytest.mark.parametrize("service", SERVICES)
def test_workers_exist_exactly_for_the_procfile_processes(service):
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    started = set(re.findall(rf"python -m {service}\.workers\.([a-z_]+)", procfile))
    folder = _package(service) / "workers"
    present = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"} if folder.is_dir() else set()
    assert started == present, f"{service}: the Procfile starts {sorted(started)}, workers/ holds {sorted(present)}"


def test_every_service_has_its_tests_under_its_own_name():
    folders = {path.name for path in (ROOT / "tests").iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert set(SERVICES) <= folders, f"no tests/<package>/ for {sorted(set(SERVICES) - folders)}"
    assert folders - set(SERVICES) <= TEST_FOLDERS, f"test folders named after no package: {folders - set(SERVICES) - TEST_FOLDERS}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_search_for_a_route_finds_its_handler(service, tmp_path):
    """Every route of the Flask app is written out, path and all, in the service's api/ (or the shared shell)."""
    from shared.devkeys import generate

    generate(str(tmp_path))
    sources = "".join(path.read_text(encoding="utf-8") for path in (_package(service) / "api").rglob("*.py"))
    sources += (ROOT / "shared" / "web.py").read_text(encoding="utf-8")
    logging.disable(logging.WARNING)
    try:
        app = importlib.import_module(f"{service}.bootstrap").create_app(
            {"DATABASE_URL": "postgresql://127.0.0.1:1/nothing", "KEYS_DIR": str(tmp_path)})
    finally:
        logging.disable(logging.NOTSET)
    shell = {"/static/<path:filename>", "/openapi.json", "/docs", "/docs/<path:filename>", "/healthz", "/readyz",
             "/metrics"}
    hidden = [rule.rule for rule in app.url_map.iter_rules() if rule.rule not in shell
              and f'"{rule.rule}"' not in sources  # a static folder is found by its URL path
              and f'"{rule.rule.removesuffix("/<path:filename>")}"' not in sources]
    assert not hidden, f"{service}: routes whose path is written nowhere in api/: {hidden}"
