"""deploy/k8s: schema-valid manifests (kubernetes-validate, offline), the Procfile's processes with
probes, autoscaling, disruption budgets, non-root pods, secrets only by reference, no sandbox in production."""
import copy
import re
import shlex

import kubernetes_validate
import pytest

from tests.deploy.layout import (K8S, REPO, SANDBOX_PACKAGES, SERVICE_KEY_FILES, SPEC_PORTS, all_containers, bind_of,
                                 by_kind, command_package, manifest_files, pod_spec, procfile, web_deployments,
                                 without_bind, yaml_documents)

K8S_VERSION = "1.33"
IMAGE = "p2p-depository-platform"
PROCESSES = procfile()
SENSITIVE = re.compile(r"(TOKENS?|SECRET|PASSWORD|DATABASE_URL|AMQP_URL|REDIS_URL|KEY)$")


def deployments_running(objects, package):
    return {name: d for name, d in by_kind(objects, "Deployment").items()
            if command_package(pod_spec(d)["containers"][0]["command"]) == package}


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_manifests_pass_the_kubernetes_schema(path):
    documents = yaml_documents(path)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_the_schema_check_rejects_a_broken_manifest():
    deployment = copy.deepcopy(yaml_documents(K8S / "base" / "beanpay-ledger.yaml")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_kustomizations_list_existing_files():
    for kustomization in K8S.rglob("kustomization.yaml"):
        spec = yaml_documents(kustomization)[0]
        for entry in spec.get("resources", []) + [p["path"] for p in spec.get("patches", [])]:
            target = (kustomization.parent / entry).resolve()
            assert target.is_file() or (target / "kustomization.yaml").is_file(), f"{kustomization}: {entry}"


def test_every_manifest_file_is_used():
    rendered_files = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        spec = yaml_documents(kustomization)[0]
        for entry in spec.get("resources", []) + [p["path"] for p in spec.get("patches", [])]:
            rendered_files.add((kustomization.parent / entry).resolve())
    assert set(manifest_files()) <= rendered_files


def test_staging_runs_every_procfile_process_with_its_command(staging):
    deployments = by_kind(staging, "Deployment")
    assert set(deployments) == set(PROCESSES)
    for name, argv in PROCESSES.items():
        container = pod_spec(deployments[name])["containers"][0]
        assert without_bind(container["command"]) == without_bind(argv), name
        if bind_of(argv):
            assert bind_of(container["command"]) == ("0.0.0.0", bind_of(argv)[1])


def test_production_has_everything_but_the_sandbox(production):
    expected = {name for name, argv in PROCESSES.items() if command_package(argv) not in SANDBOX_PACKAGES}
    assert set(by_kind(production, "Deployment")) == expected
    for obj in production:
        assert "sandbox" not in obj["metadata"]["name"], obj["metadata"]["name"]
    for container in all_containers(production):
        assert not [package for package in SANDBOX_PACKAGES if package in " ".join(container["command"])]
    config = by_kind(production, "ConfigMap")["platform-config"]["data"]
    assert config["PRODUCTION"] == "true"
    assert config["FRONTEND_ENV"] == "production"
    assert "sandbox" not in config["BANK_SANDBOX_URL"] and "localhost" not in config["DEPOSITORY_GATEWAY_URL"]
    # the real partner, over TLS: its data and its callback endpoint
    for setting in ("PARTNER_URL", "PARTNER_CALLBACK_URL"):
        assert config[setting].startswith("https://") and "sandbox" not in config[setting], setting


def test_staging_points_the_platform_at_the_sandbox(staging):
    config = by_kind(staging, "ConfigMap")["platform-config"]["data"]
    assert config["PRODUCTION"] == "false"
    assert config["BANK_SANDBOX_URL"] == f"http://bank-sandbox:{SPEC_PORTS['bank_sandbox']}"
    assert config["PARTNER_URL"] == f"http://partner-sandbox:{SPEC_PORTS['partner_sandbox']}"
    assert config["PARTNER_CALLBACK_URL"] == config["PARTNER_URL"] + "/callbacks"
    assert {o["metadata"]["namespace"] for o in staging} == {"p2p-staging"}


def test_web_deployments_probe_healthz_and_readyz_on_the_spec_port(staging):
    web = web_deployments(staging)
    assert set(web) == {name for name, argv in PROCESSES.items() if bind_of(argv)}
    for name, deployment in web.items():
        container = pod_spec(deployment)["containers"][0]
        port = SPEC_PORTS[command_package(container["command"])]
        assert container["ports"] == [{"name": "http", "containerPort": port}], name
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name


def selects(selector: dict, deployment: dict) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_every_web_service_has_service_hpa_and_pdb(objects, request):
    objects = request.getfixturevalue(objects)
    services, hpas, pdbs = (by_kind(objects, kind) for kind in ("Service", "HorizontalPodAutoscaler",
                                                                 "PodDisruptionBudget"))
    for name, deployment in web_deployments(objects).items():
        port = pod_spec(deployment)["containers"][0]["ports"][0]["containerPort"]
        service = services[name]
        assert selects(service["spec"]["selector"], deployment)
        assert service["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
        hpa = hpas[name]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"] >= 1
        assert "replicas" not in deployment["spec"], f"{name}: the HPA owns the replica count"
        pdb = pdbs[name]
        assert pdb["apiVersion"] == "policy/v1"
        assert selects(pdb["spec"]["selector"]["matchLabels"], deployment)
    for name in web_deployments(objects):
        if "sandbox" not in name:
            assert hpas[name]["spec"]["minReplicas"] >= 2, f"{name} keeps two pods for availability"


def test_workers_have_no_ports_and_several_replicas_where_they_matter(production):
    workers = {name: d for name, d in by_kind(production, "Deployment").items() if not bind_of(PROCESSES[name])}
    assert workers
    for name, deployment in workers.items():
        assert "ports" not in pod_spec(deployment)["containers"][0], name
        assert deployment["spec"]["replicas"] >= 2, f"{name}: one replica down must not stop the flow"


def test_pods_run_non_root_with_read_only_root_and_limits(staging):
    for obj in staging:
        spec = pod_spec(obj)
        if spec is None:
            continue
        name = obj["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] > 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["image"].split(":")[0].endswith(IMAGE), name
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)


def test_images_are_retagged_by_kustomize(production):
    images = {c["image"] for c in all_containers(production)}
    assert images == {f"registry.example.com/{IMAGE}:0.1.0"}


def secret_references(objects):
    """(secret name, key) pairs the pods read: secretKeyRef env values and secret volume items."""
    refs = set()
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        for container in spec["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                refs |= {(volume["secret"]["secretName"], item["key"]) for item in volume["secret"]["items"]}
    return refs


def test_no_secret_values_in_the_manifests(staging):
    assert not [o for o in staging if o["kind"] == "Secret"], "secrets are created out of band (docs/deployment.md)"
    for container in all_containers(staging):
        from_secrets = set()
        for env in container.get("env", []):
            if "value" in env and SENSITIVE.search(env["name"]):
                # only a list of references to secret values defined above, which the kubelet expands
                references = re.fullmatch(r"\$\((\w+)\)(?:,\$\((\w+)\))*", env["value"])
                assert references, f"{env['name']}: a literal secret value"
                assert set(re.findall(r"\$\((\w+)\)", env["value"])) <= from_secrets, env["name"]
            elif SENSITIVE.search(env["name"]):
                assert "secretKeyRef" in env["valueFrom"], env["name"]
            if "secretKeyRef" in env.get("valueFrom", {}):
                from_secrets.add(env["name"])
    for config in by_kind(staging, "ConfigMap").values():
        assert not [k for k in config["data"] if SENSITIVE.search(k)], "no secret-like key in a ConfigMap"
    for path in [*K8S.rglob("*"), *(REPO / "deploy" / "rabbitmq").rglob("*")]:
        if path.is_file():
            text = path.read_text()
            assert "BEGIN" not in text and "PRIVATE KEY" not in text, path
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), f"{path}: credentials in a URL"


def test_every_referenced_secret_is_created_by_the_documented_commands(staging):
    docs = (REPO / "docs" / "deployment.md").read_text().replace("\\\n", " ")
    commands = {}
    for line in docs.splitlines():
        match = re.search(r"kubectl(?: -n \S+)? create secret generic (\S+)(.*)", line)
        if match:
            commands[match.group(1)] = set(re.findall(r"--from-(?:literal|file)=([^=\s]+)=", match.group(2)))
    references = secret_references(staging)
    assert references
    for name, key in references:
        assert name in commands, f"docs/deployment.md has no `kubectl create secret generic {name}`"
        assert key in commands[name], f"the documented {name} lacks key {key}"


def test_key_files_only_reach_the_services_that_use_them(staging):
    for name, deployment in by_kind(staging, "Deployment").items():
        spec = pod_spec(deployment)
        package = command_package(spec["containers"][0]["command"])
        mounted = {item["path"] for volume in spec.get("volumes", []) if "secret" in volume
                   for item in volume["secret"]["items"]}
        assert mounted == SERVICE_KEY_FILES[package], name
        if mounted:
            mounts = spec["containers"][0]["volumeMounts"]
            keys_mount = [m for m in mounts if m["name"] == "keys"][0]
            config = by_kind(staging, "ConfigMap")["platform-config"]["data"]
            assert keys_mount == {"name": "keys", "mountPath": config["KEYS_DIR"], "readOnly": True}, name


def test_pods_read_the_config_map_and_their_own_database(staging):
    configmaps = by_kind(staging, "ConfigMap")
    for name, deployment in by_kind(staging, "Deployment").items():
        container = pod_spec(deployment)["containers"][0]
        assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == ["platform-config"]
        assert "platform-config" in configmaps
        database = [e for e in container["env"] if e["name"] == "DATABASE_URL"][0]
        owner = command_package(container["command"]).replace("_", "-")
        assert database["valueFrom"]["secretKeyRef"]["name"] == f"{owner}-secrets", name


def test_migration_jobs_migrate_every_deployed_database(production, staging):
    def migrations(objects):
        found = {}
        for job in by_kind(objects, "Job").values():
            for container in pod_spec(job)["containers"]:
                argv = container["command"]
                assert argv[:2] == ["python", "-m"] and argv[3:] == ["migrate"], shlex.join(argv)
                secret = [e for e in container["env"] if e["name"] == "DATABASE_URL"][0]["valueFrom"]["secretKeyRef"]
                found[argv[2]] = secret["name"]
        return found

    deployed = {package for package in SPEC_PORTS if package not in SANDBOX_PACKAGES}
    assert migrations(production) == {p: f"{p.replace('_', '-')}-secrets" for p in deployed}
    assert set(migrations(staging)) == set(SPEC_PORTS)


def test_reconciliation_runs_yesterday_every_day_one_run_at_a_time(production):
    [cronjob] = by_kind(production, "CronJob").values()
    assert cronjob["spec"]["schedule"] == "30 2 * * *" and cronjob["spec"]["timeZone"] == "Asia/Shanghai"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    [rule] = job["podFailurePolicy"]["rules"]  # differences remaining (exit 1) are not retried
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["values"] == [1]
    spec = pod_spec(cronjob)
    assert spec["restartPolicy"] == "Never"
    [container] = spec["containers"]
    argv = container["command"]
    assert argv[:4] == ["python", "-m", "depository_agent", "reconcile"]
    assert argv[argv.index("--date") + 1] == "yesterday"
    csv_dir = argv[argv.index("--csv") + 1].rsplit("/", 1)[0]
    assert csv_dir in {mount["mountPath"] for mount in container["volumeMounts"]}  # writable: the root is not
    agent = pod_spec(by_kind(production, "Deployment")["depository-agent"])
    assert container["envFrom"] == agent["containers"][0]["envFrom"]
    database = [e for e in container["env"] if e["name"] == "DATABASE_URL"][0]["valueFrom"]["secretKeyRef"]
    assert database["name"] == "depository-agent-secrets"
    mounted = {item["path"] for volume in spec["volumes"] if "secret" in volume for item in volume["secret"]["items"]}
    assert mounted == SERVICE_KEY_FILES["depository_agent"]
