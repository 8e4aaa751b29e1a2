"""What the deployment exposes and what it trusts, read from the manifests, the compose file and the
services' own URL maps: the ingress's public paths, who may connect to whom, one service token per
caller, the proxies whose X-Forwarded-For is believed, the credentials each process holds, and the
callbackUrl prefixes."""
import importlib
import importlib.util
import logging
import re
import runpy
from fnmatch import fnmatch
from urllib.parse import urlsplit

import pytest
from psycopg_pool import ConnectionPool

from shared.auth import token_accepted
from shared.config import load_config
from shared.devkeys import generate
from tests.deploy.layout import (K8S, REPO, SPEC_PORTS, by_kind, command_package, compose, env_dict, pod_spec,
                                 web_deployments)

# -- the call graph, from the code -----------------------------------------------------------------
# Who sends a service token to whom: user-center's web (user_center/app.py: AgentClient, LedgerClient)
# and its GatewayNotifyConsumer (workers/gateway_notify.py and sweep.py: LedgerClient, AgentClient),
# bank-callback's netsave crediter (crediting.py, with bootstrap.py's LedgerClient), the depository-agent's
# reconciliation (reconciliation/sources.py: user-center's /internal/records, the ledger's records), and
# lending (bootstrap.py): its web (loan/confirm asks user-center; a repayment freezes through the agent),
# depository-state-check (user-center), the processes that call the agent's /l/ (audit-result, disburse, and
# the result consumers sending again calls without a final result) and ledger-mirror (the ledger).
# user-center reads a borrower's loans from lending's /internal/loans. Nothing else does: the agent's web,
# relay and compensation, bank-callback's web, the ledger and lending's other workers call no service of the
# platform with a token (compensation and reconciliation also ask the bank, which takes no platform token;
# lending's credit-data-pull and partner-callbacks call the partner, with the partner's signature).
IDENTITY = {"user-center": "user-center", "gateway-notify-consumer": "user-center-consumer",
            "netsave-crediter": "bank-callback", "reconcile": "reconciliation",
            # lending's: one identity per set of services called, so that each accepts exactly its callers
            "lending": "lending", "depository-state-check": "lending-state-check", "ledger-mirror": "lending-ledger",
            **{process: "lending-settlement"
               for process in ("audit-result", "disburse", "loan-result", "repay-result")}}
CALLERS = {  # web service -> the processes calling it with their token
    "user-center": {"reconcile", "lending", "depository-state-check"},
    "depository-agent": {"user-center", "gateway-notify-consumer", "lending", "audit-result", "disburse",
                         "loan-result", "repay-result"},
    "bank-callback": set(),
    "beanpay-ledger": {"user-center", "gateway-notify-consumer", "netsave-crediter", "reconcile", "ledger-mirror"},
    "lending": {"user-center"},
}
# Staging only: the sandboxes' fault knobs take the operators' token; the bank sandbox plays the bank, which
# calls the platform with signatures, not tokens, and is asked by compensation, the reconciliation and the
# agent's transaction services (SPEC 9); the partner sandbox plays the partner, which calls lending's partner
# API with its signature and is asked by credit-data-pull and called back by partner-callbacks.
STAGING_TOKENS = {"bank-sandbox": {"internal-token-sandbox-operator/token"},
                  "partner-sandbox": {"internal-token-sandbox-operator/token"}}
BANK_CALLS = {"bank-sandbox": {"compensation", "reconcile", "depository-agent"},
              "depository-agent": {"sandbox-notifier"}, "bank-callback": {"sandbox-notifier"},
              "partner-sandbox": {"credit-data-pull", "partner-callbacks"}, "lending": {"partner-sandbox"}}
# The service packages whose code sends service tokens, reads the broker, reads Redis.
CALLING_PACKAGES = {"user_center", "bank_callback", "depository_agent", "lending"}
INFRA_PACKAGES = {"AMQP_URL": {"user_center", "depository_agent", "lending"},
                  "REDIS_URL": {"user_center", "bank_callback"}}
# ... and so the processes that hold each credential (none other may).
CREDENTIALS = {"user-center": {"AMQP_URL", "REDIS_URL", "TOKEN_SECRET"}, "gateway-notify-consumer": {"AMQP_URL"},
               "outbox-relay": {"AMQP_URL"}, "bank-callback": {"REDIS_URL"},
               **{process: {"AMQP_URL"} for process in ("lending-outbox-relay", "credit-engine", "credit-result",
                                                         "audit-result", "loan-result", "repay-result")}}

# -- exposure --------------------------------------------------------------------------------------
# What the internet may reach, per service: the users' frontend and API, the banks' callbacks.
PUBLIC = {"user_center": ["/", "/assets/*", "/consumers", "/tokens", "/my/*", "/open-account/*"],
          "depository_agent": ["/gateway", "/gateway/"],
          "bank_callback": ["/register", "/netsave", "/RegisterCallback", "/NetSaveCallback"],
          "bank_sandbox": ["/gateway", "/gateway/confirm"],  # staging: the bank's page and its form
          "lending": ["/rongshu/*", "/agreements/*"]}  # the partner's API and the agreements its app links to
NEVER_PUBLIC = ["/metrics", "/docs", "/docs/", "/openapi.json", "/readyz", "/healthz", "/internal/records",
                "/internal/anything", "/internal/consumers", "/internal/open-account-links", "/l/consumers", "/l/records/REQ_1", "/account/balance/add", "/static/app.js",
                "/huifu/netsave", "/sandbox/faults", "/sandbox/confirm", "/service/query", "/statements",
                "/balance-details/USR_1", "/internal/loans", "/sim/orders", "/sim/faults", "/callbacks",
                "/data/RS1/operator", "/page/orders"]
INGRESS_CONTROLLER, MONITORING = "ingress-controller", "monitoring"


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    """Each service's URL rules, from its real app (the pool opens lazily: no database is needed)."""
    keys = tmp_path_factory.mktemp("keys")
    generate(str(keys))
    found = {}
    logging.disable(logging.WARNING)
    try:
        for package in SPEC_PORTS:
            app = _create_app(package)({"DATABASE_URL": "postgresql://127.0.0.1:1/nothing", "KEYS_DIR": str(keys)})
            found[package] = {rule.rule for rule in app.url_map.iter_rules()}
            _close_pools(app)
    finally:
        logging.disable(logging.NOTSET)
    return found


def _create_app(package: str):
    """A service's app factory: in its bootstrap.py (docs/architecture.md), or in app.py."""
    module = "bootstrap" if importlib.util.find_spec(f"{package}.bootstrap") else "app"
    return importlib.import_module(f"{package}.{module}").create_app


def _close_pools(app) -> None:
    """Close the database pools the app opened, kept as an extension or in its dependencies."""
    for extension in app.extensions.values():
        for pool in (extension, getattr(extension, "pool", None)):
            if isinstance(pool, ConnectionPool):
                pool.close()


def deployments(objects) -> dict:
    """Pod-running objects by name (Deployments and the CronJob), for what their pods hold."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] in {"Deployment", "CronJob"}}


def routed(objects, host: str, path: str) -> str | None:
    """The Service the Ingresses send ``path`` on ``host`` to, with Kubernetes' matching rules: an
    Exact path first, else the longest Prefix whose path elements all match; None when nothing does."""
    exact, prefixes = None, []
    for ingress in by_kind(objects, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            if rule.get("host", host) != host:
                continue
            for entry in rule["http"]["paths"]:
                service = entry["backend"]["service"]["name"]
                if entry["pathType"] == "Exact" and path == entry["path"]:
                    exact = service
                elif entry["pathType"] == "Prefix":
                    prefix = entry["path"].rstrip("/")
                    if path == prefix or path.startswith(prefix + "/"):
                        prefixes.append((len(prefix), service))
    return exact or (max(prefixes)[1] if prefixes else None)


def hosts(objects) -> set[str]:
    return {rule["host"] for ingress in by_kind(objects, "Ingress").values() for rule in ingress["spec"]["rules"]}


def sample(rule: str) -> str:
    """A concrete path for a URL rule (``/l/records/<string:request_no>`` -> ``/l/records/x``)."""
    return re.sub(r"<[^>]+>", "x", rule)


# -- the ingress ------------------------------------------------------------------------------------
@pytest.mark.parametrize("objects", ["production", "staging"])
def test_the_ingress_routes_exactly_the_public_paths_of_each_service(objects, routes, request):
    objects = request.getfixturevalue(objects)
    deployed = {command_package(pod_spec(d)["containers"][0]["command"]): name
                for name, d in web_deployments(objects).items()}
    assert set(deployed) >= {"user_center", "depository_agent", "bank_callback", "beanpay_ledger"}
    for package, service in deployed.items():
        for rule in routes[package]:
            public = any(fnmatch(rule, pattern) for pattern in PUBLIC.get(package, []))
            reached = {host for host in hosts(objects) if routed(objects, host, sample(rule)) == service}
            assert bool(reached) == public, f"{service} {rule}: {'public' if public else 'internal'}, routed on {reached}"
        for pattern in PUBLIC.get(package, []):  # and every public path is there, even before the app has it
            assert any(routed(objects, host, sample(pattern.replace("*", "x"))) == service for host in hosts(objects))


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_no_host_routes_an_operator_or_internal_path(objects, request):
    objects = request.getfixturevalue(objects)
    for host in hosts(objects):
        for path in NEVER_PUBLIC:
            assert routed(objects, host, path) is None, f"{host}{path} is routed"


def test_the_router_model_follows_kubernetes_path_matching():
    ingress = {"kind": "Ingress", "metadata": {"name": "i"}, "spec": {"rules": [{"host": "h", "http": {"paths": [
        {"path": "/my", "pathType": "Prefix", "backend": {"service": {"name": "a"}}},
        {"path": "/my/secret", "pathType": "Exact", "backend": {"service": {"name": "b"}}},
        {"path": "/", "pathType": "Exact", "backend": {"service": {"name": "c"}}}]}}]}}
    assert [routed([ingress], "h", path) for path in ("/my", "/my/", "/my/x/y", "/myx", "/my/secret", "/", "/x")] \
        == ["a", "a", "a", None, "b", "c", None]
    assert routed([ingress], "other", "/my") is None


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_every_public_host_is_served_over_tls_by_a_named_controller(objects, request):
    for ingress in by_kind(request.getfixturevalue(objects), "Ingress").values():
        covered = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
        assert {rule["host"] for rule in ingress["spec"]["rules"]} <= covered, ingress["metadata"]["name"]
        assert ingress["spec"]["ingressClassName"] == "nginx", "X-Forwarded-For handling is the controller's"


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_nothing_bypasses_the_ingress(objects, request):
    objects = request.getfixturevalue(objects)
    for service in by_kind(objects, "Service").values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]
    for name, obj in deployments(objects).items():
        spec = pod_spec(obj)
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        for container in spec["containers"]:
            assert all("hostPort" not in port for port in container.get("ports", [])), name


# -- who may connect to whom -----------------------------------------------------------------------
def allowed_sources(objects, target: dict) -> set[str] | None:
    """Who NetworkPolicies let connect to ``target``'s pods: pod names of the namespace,
    ``ingress-controller``, ``monitoring``; None when no policy selects them (everyone)."""
    template = target["spec"]["jobTemplate"]["spec"] if target["kind"] == "CronJob" else target["spec"]
    labels = template["template"]["metadata"]["labels"]
    sources, selected = set(), False
    for policy in by_kind(objects, "NetworkPolicy").values():
        wanted = policy["spec"]["podSelector"].get("matchLabels", {})
        if not all(labels.get(key) == value for key, value in wanted.items()):
            continue
        selected = True
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for rule in policy["spec"].get("ingress", []):
            assert rule["from"], f"{policy['metadata']['name']}: a rule without `from` lets everyone in"
            assert rule["ports"] == [{"port": "http", "protocol": "TCP"}], policy["metadata"]["name"]
            for peer in rule["from"]:
                assert set(peer) <= {"podSelector", "namespaceSelector"}, f"no ipBlock: {peer}"
                if "namespaceSelector" in peer:
                    namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    sources.add(INGRESS_CONTROLLER if namespace == "ingress-nginx" else namespace)
                else:
                    sources.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
    return sources if selected else None


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_network_policies_let_in_exactly_the_callers_the_code_has(objects, request):
    name = objects
    objects = request.getfixturevalue(objects)
    [deny] = [p for p in by_kind(objects, "NetworkPolicy").values() if p["spec"]["podSelector"] == {}]
    assert deny["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in deny["spec"]
    public = {routed(objects, host, path) for host in hosts(objects) for patterns in PUBLIC.values()
              for path in (sample(p.replace("*", "x")) for p in patterns)} - {None}
    for service, obj in deployments(objects).items():
        expected = set(CALLERS.get(service, ()))
        if name == "staging":
            expected |= BANK_CALLS.get(service, set())
        if service in public:
            expected.add(INGRESS_CONTROLLER)
        if service in web_deployments(objects):
            expected.add(MONITORING)
        assert allowed_sources(objects, obj) == expected, service


# -- one token per caller --------------------------------------------------------------------------
def secret_value(name: str, key: str) -> str:
    """A stand-in for a secret's value: ``<secret>/<key>``. A token Secret's ``accepted`` key holds its
    ``token`` (outside a rotation, when it is "new,old"), so both read the same."""
    return f"{name}/token" if name.startswith("internal-token-") and key == "accepted" else f"{name}/{key}"


def resolved_env(container: dict) -> dict[str, str]:
    """The container's env as the kubelet gives it (secret values as :func:`secret_value`), with
    ``$(NAME)`` references to the variables defined above expanded."""
    env = {}
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), entry["value"])
        elif "secretKeyRef" in entry["valueFrom"]:
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = secret_value(ref["name"], ref["key"])
    return env


@pytest.fixture
def tokens(monkeypatch, tmp_path):
    """``tokens(objects)``: per process, ``(token it sends, tokens it accepts)`` as the services' own
    configuration loader reads them from its env (KEYS_DIR holding no internal_token, as in the pods)."""
    def read(objects) -> dict[str, tuple[str, tuple]]:
        result = {}
        for name, obj in deployments(objects).items():
            for variable in ("INTERNAL_TOKEN", "INTERNAL_TOKENS"):
                monkeypatch.delenv(variable, raising=False)
            for variable, value in resolved_env(pod_spec(obj)["containers"][0]).items():
                monkeypatch.setenv(variable, value)
            monkeypatch.setenv("KEYS_DIR", str(tmp_path))
            config = load_config("unused", {})
            result[name] = config["INTERNAL_TOKEN"], config["INTERNAL_TOKENS"]
        return result
    return read


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_each_service_accepts_exactly_the_tokens_of_its_callers(objects, tokens, request):
    name = objects
    objects = request.getfixturevalue(objects)
    held = tokens(objects)
    for caller, identity in IDENTITY.items():
        assert held[caller][0] == f"internal-token-{identity}/token", f"{caller} sends its own identity's token"
    for service in web_deployments(objects):
        accepted = set(held[service][1])
        expected = {held[caller][0] for caller in CALLERS.get(service, ())}
        if name == "staging":
            expected |= STAGING_TOKENS.get(service, set())
        assert accepted == expected, service
        for caller in IDENTITY:  # and the services' own check agrees, caller by caller
            assert token_accepted(f"Bearer {held[caller][0]}", held[service][1]) == (caller in CALLERS.get(service, ())), \
                (caller, service)


def test_only_the_callers_hold_a_token_to_send_and_receivers_read_what_a_rotation_widens(staging):
    for name, obj in deployments(staging).items():
        for entry in pod_spec(obj)["containers"][0].get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef", {})
            if ref.get("name", "").startswith("internal-token-"):
                assert ref["key"] == ("token" if entry["name"] == "INTERNAL_TOKEN" else "accepted"), (name, entry)
        sends = {entry["name"] for entry in pod_spec(obj)["containers"][0].get("env", [])} & {"INTERNAL_TOKEN"}
        assert bool(sends) == (name in IDENTITY), name


def test_the_call_graph_is_still_the_codes(routes):
    """A new service client (or a new package calling one) must show up in the manifests above too."""
    clients = re.compile(r"(?<!class )\b(ServiceClient|LedgerClient|AgentClient)\(")
    calling = {path.relative_to(REPO / "services").parts[0] for path in (REPO / "services").rglob("*.py")
               if clients.search(path.read_text())}
    assert calling == CALLING_PACKAGES, \
        "a service gained a client of another service: update IDENTITY, CALLERS, the manifests and the docs"
    assert "/internal/records" in routes["user_center"]  # what the reconciliation reads
    for setting, packages in INFRA_PACKAGES.items():
        reading = {path.relative_to(REPO / "services").parts[0] for path in (REPO / "services").rglob("*.py")
                   if f'"{setting}"' in path.read_text()}
        assert reading == packages, f"{setting} is read by {reading}: update CREDENTIALS and the manifests"


@pytest.mark.parametrize("objects", ["production", "staging"])
def test_each_process_holds_only_the_credentials_it_uses(objects, request):
    for name, obj in deployments(request.getfixturevalue(objects)).items():
        names = {entry["name"] for entry in pod_spec(obj)["containers"][0].get("env", [])}
        assert names & {"AMQP_URL", "REDIS_URL", "TOKEN_SECRET"} == CREDENTIALS.get(name, set()), name


# -- proxies and headers ---------------------------------------------------------------------------
def test_user_center_trusts_the_one_proxy_in_front_of_it_in_kubernetes(production):
    proxies = {name: resolved_env(container).get("TRUSTED_PROXY_COUNT") for name, obj in deployments(production).items()
               for container in pod_spec(obj)["containers"]}
    assert {name for name, count in proxies.items() if count is not None} == {"user-center"}
    # one hop: the ingress controller, which appends the address that connected to it
    assert routed(production, "platform.example.com", "/tokens") == "user-center"
    assert proxies["user-center"] == "1"
    # and nobody else can put a header in front of it: only the controller (and the reconciliation, lending
    # and Prometheus, which never log in) may connect
    assert allowed_sources(production, by_kind(production, "Deployment")["user-center"]) == \
        {INGRESS_CONTROLLER, "reconcile", "lending", "depository-state-check", MONITORING}


def test_compose_and_the_local_stack_trust_no_forwarded_header():
    services = compose()["services"]
    user_center = env_dict(services["user-center"]["environment"])
    assert user_center["TRUSTED_PROXY_COUNT"] == "0", "browsers reach it directly: the header is theirs"
    for name, service in services.items():
        if name != "user-center":
            assert "TRUSTED_PROXY_COUNT" not in env_dict(service.get("environment")), name
    local = (REPO / "deploy" / "local.env").read_text()
    assert "TRUSTED_PROXY_COUNT" not in local and "FORWARDED_ALLOW_IPS" not in local


def test_gunicorn_believes_no_forwarded_or_proxy_header_from_others():
    settings = runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))
    assert not {"forwarded_allow_ips", "proxy_allow_ips", "proxy_protocol", "secure_scheme_headers"} & set(settings)
    files = [REPO / "docker-compose.yml", REPO / "Procfile", *K8S.rglob("*.yaml")]
    for path in files:
        text = path.read_text()
        assert "FORWARDED_ALLOW_IPS" not in text and "--forwarded-allow-ips" not in text, path
        assert "--proxy-protocol" not in text and "--proxy-allow-from" not in text, path


# -- callbackUrl prefixes --------------------------------------------------------------------------
def prefixes(value: str) -> list[str]:
    """The prefixes of a CALLBACK_URL_PREFIXES value, each checked to pin an origin: an absolute
    http(s) URL without credentials, query or fragment, whose path ends with "/" (so that
    ``https://host`` cannot admit ``https://host.evil.example/``)."""
    found = [part.strip() for part in value.split(",") if part.strip()]
    assert found
    for prefix in found:
        parts = urlsplit(prefix)
        assert parts.scheme in {"http", "https"} and parts.hostname and "@" not in parts.netloc, prefix
        assert parts.path.startswith("/") and parts.path.endswith("/") and not (parts.query or parts.fragment), prefix
    return found


def test_production_allows_callbacks_only_to_the_users_frontend_over_https(production, staging):
    for objects in (production, staging):
        config = by_kind(objects, "ConfigMap")["platform-config"]["data"]
        frontend = {host for host in hosts(objects) if routed(objects, host, "/") == "user-center"}
        assert prefixes(config["CALLBACK_URL_PREFIXES"]) == [f"https://{host}/" for host in sorted(frontend)]


def test_compose_and_the_local_stack_allow_their_own_frontend():
    user_center = env_dict(compose()["services"]["user-center"]["environment"])
    published = compose()["services"]["user-center"]["ports"][0].rsplit(":", 2)[1]
    assert set(prefixes(user_center["CALLBACK_URL_PREFIXES"])) == {f"http://localhost:{published}/",
                                                                    f"http://127.0.0.1:{published}/"}
    local = dict(line.split("=", 1) for line in (REPO / "deploy" / "local.env").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert prefixes(local["CALLBACK_URL_PREFIXES"]) == [local["USER_CENTER_URL"] + "/"]


def test_a_prefix_without_the_slash_after_its_host_is_refused():
    for loose in ("https://platform.example.com", "https://platform.example.com/#/", "javascript:alert(1)//",
                  "https://user@platform.example.com/", "//platform.example.com/"):
        with pytest.raises(AssertionError):
            prefixes(loose)

