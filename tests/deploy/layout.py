"""What the deployment tests read: the Procfile, the compose file, the Dockerfile and the
Kubernetes manifests (with a small kustomize-like renderer: resources, patches, namespace, images).
"""
import shlex
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"

# docs/protocols.md and the fixed conventions: package -> port, database.
SPEC_PORTS = {
    "user_center": 8001,
    "depository_agent": 8002,
    "bank_callback": 8003,
    "beanpay_ledger": 8004,
    "bank_sandbox": 8005,
    "lending": 8006,
    "partner_sandbox": 8007,
}
DATABASES = tuple(SPEC_PORTS)
# The simulated bank and the simulated lending partner: development, demos and staging, never production.
SANDBOX_PACKAGES = ("bank_sandbox", "partner_sandbox")

# Which key files each service may hold (COMMON conventions): private keys only where they sign.
SERVICE_KEY_FILES = {
    "depository_agent": {"platform_private.pem", "bank_public.pem"},
    "bank_callback": {"huifu_public.pem"},
    "bank_sandbox": {"platform_public.pem", "bank_private.pem", "huifu_private.pem"},
    "user_center": set(),
    "beanpay_ledger": set(),
    # the partner's shared secret: lending checks the partner's signatures and signs its callbacks,
    # the partner sandbox does the reverse
    "lending": {"rongshu_secret"},
    "partner_sandbox": {"rongshu_secret"},
}


def procfile() -> dict[str, list[str]]:
    """Procfile process name -> command as argument list."""
    processes = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


def command_package(argv: list[str]) -> str:
    """The Python package a Procfile-style command runs (``x.wsgi:app`` or ``python -m x.workers.y``)."""
    target = argv[argv.index("-m") + 1] if "-m" in argv else argv[-1].split(":")[0]
    return target.split(".")[0]


def bind_of(argv: list[str]) -> tuple[str, int] | None:
    """The ``--bind host:port`` of a gunicorn command, or None for a worker."""
    if "--bind" not in argv:
        return None
    host, port = argv[argv.index("--bind") + 1].rsplit(":", 1)
    return host, int(port)


def without_bind(argv: list[str]) -> list[str]:
    """The command with the bind address blanked, for comparison modulo host and port."""
    argv = list(argv)
    if "--bind" in argv:
        argv[argv.index("--bind") + 1] = "<bind>"
    return argv


def compose() -> dict:
    """docker-compose.yml, with YAML merge keys resolved."""
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def as_argv(command) -> list[str]:
    """A compose ``command`` (list or string) as an argument list."""
    return list(command) if isinstance(command, list) else shlex.split(command)


def env_dict(environment) -> dict[str, str]:
    """A compose ``environment`` (mapping or KEY=VALUE list) as a dict of strings."""
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in (environment or {}).items()}


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """The Dockerfile's build stages, each a list of instructions starting with its FROM."""
    result = []
    for instruction in dockerfile_instructions(path):
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def yaml_documents(path: Path) -> list[dict]:
    """The non-empty YAML documents of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest_files() -> list[Path]:
    """Every Kubernetes resource file under deploy/k8s (kustomization files excluded)."""
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def render(directory: Path) -> list[dict]:
    """The resources a kustomization directory produces (the subset of kustomize this repo uses)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - {"apiVersion", "kind", "namespace", "resources", "patches", "images", "labels"}
    assert not unknown, f"{directory}: kustomization fields this renderer does not model: {unknown}"
    objects = []
    for entry in spec.get("resources", []):
        target = (directory / entry).resolve()
        objects += render(target) if target.is_dir() else yaml_documents(target)
    for patch in spec.get("patches", []):
        _apply_patch(objects, yaml_documents(directory / patch["path"])[0])
    for pair in spec.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(pair["pairs"])
    if "namespace" in spec:
        for obj in objects:
            obj["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        for container in all_containers(objects):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    return objects


def _apply_patch(objects: list[dict], patch: dict) -> None:
    matches = [o for o in objects if o["kind"] == patch["kind"] and o["metadata"]["name"] == patch["metadata"]["name"]]
    assert len(matches) == 1, f"patch target {patch['kind']}/{patch['metadata']['name']} not found once"
    _merge(matches[0], patch)


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def pod_spec(obj: dict) -> dict | None:
    """The pod template spec of a Deployment, Job or CronJob, else None."""
    if obj["kind"] in {"Deployment", "Job"}:
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def all_containers(objects: list[dict]) -> list[dict]:
    """Every container (init containers included) of every pod template in ``objects``."""
    containers = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec:
            containers += spec.get("initContainers", []) + spec["containers"]
    return containers


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    """Objects of one kind by name."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def web_deployments(objects: list[dict]) -> dict[str, dict]:
    """The Deployments that serve HTTP (their container has ports), by name."""
    return {name: d for name, d in by_kind(objects, "Deployment").items() if pod_spec(d)["containers"][0].get("ports")}
