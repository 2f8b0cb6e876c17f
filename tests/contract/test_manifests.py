"""Every service has a Kubernetes manifest that an SRE can run safely, and the overlays build.

The overlays are rendered with ``kustomize build`` or ``kubectl kustomize`` where either binary
is installed. Where neither is (pip has no kustomize), the patch check below still catches what
kustomize would refuse: a JSON 6902 operation on a path that a targeted resource does not have.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = ["gateway", "agent", "metrics", "knowledge", "learning"]
OVERLAYS = ["dev", "prod"]
OTLP = "OTEL_EXPORTER_OTLP_ENDPOINT"
INGEST = ["python", "-m", "services.knowledge", "ingest"]

Resource = dict[str, Any]


def _docs(path: Path) -> list[Resource]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _deployment(name: str) -> Resource:
    return next(d for d in _docs(K8S / "base" / f"{name}.yaml") if d["kind"] == "Deployment")


def _base_job(name: str) -> Resource:
    for path in sorted((K8S / "base").glob("*.yaml")):
        for doc in _docs(path):
            if doc["kind"] == "Job" and doc["metadata"]["name"] == name:
                return doc
    raise AssertionError(f"no Job {name!r} in deploy/k8s/base")


def _assert_locked_down(pod: Resource) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("name", SERVICES)
def test_deployment_is_probed_limited_and_locked_down(name: str) -> None:
    spec = _deployment(name)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/internal/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/internal/alive"
    _assert_locked_down(spec)


def test_base_lists_every_service_and_overlays_add_the_collector() -> None:
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert {f"{s}.yaml" for s in SERVICES} <= set(base["resources"])
    for overlay in OVERLAYS:
        kustomization = yaml.safe_load(
            (K8S / "overlays" / overlay / "kustomization.yaml").read_text()
        )
        assert "../../components/otel-collector" in kustomization["components"]


def test_a_job_ingests_the_corpus_beside_the_migration() -> None:
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    jobs = {
        doc["metadata"]["name"]: doc
        for path in base["resources"]
        for doc in _docs(K8S / "base" / path)
        if doc["kind"] == "Job"
    }
    assert {"habyss-migrate", "habyss-knowledge-ingest"} <= set(jobs)
    job = _base_job("habyss-knowledge-ingest")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    # The knowledge image carries the corpus and the embedding model the service searches with.
    assert container["image"].split(":")[0] == "habyss/knowledge"
    assert container["command"][: len(INGEST)] == INGEST
    assert {"configMapRef": {"name": "habyss-config"}} in container["envFrom"]
    assert pod["restartPolicy"] == "OnFailure" and job["spec"]["backoffLimit"] >= 1
    _assert_locked_down(pod)
    # It writes to the Qdrant server the services read: the one the shared config names.
    config = next(d for d in _docs(K8S / "base" / "config.yaml") if d["kind"] == "ConfigMap")
    assert config["data"]["QDRANT_URL"].startswith("http")


def test_compose_ingests_the_corpus_once_qdrant_is_up() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    ingesting = [
        name for name, s in services.items() if s.get("command", [])[: len(INGEST)] == INGEST
    ]
    assert len(ingesting) == 1, ingesting
    ingest = services[ingesting[0]]
    assert "qdrant" in ingest["depends_on"]
    # Started is all compose can tell of Qdrant; the command itself waits for it to be ready.
    assert "--wait" in ingest["command"]
    assert ingest["environment"]["QDRANT_URL"] == services["knowledge"]["environment"]["QDRANT_URL"]
    assert ingest["build"]["args"]["SERVICE"] == "knowledge"
    assert ingest["read_only"] is True and ingest["cap_drop"] == ["ALL"]


# --- what kustomize would refuse, checked without kustomize ---------------------------------


def _kustomization(directory: Path) -> Resource:
    data: Resource = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return data


def _resources(directory: Path) -> list[Resource]:
    """Every resource a kustomization directory yields before patches (components included),
    with the labels its ``labels`` and ``commonLabels`` add (patch targets may select on them)."""
    k = _kustomization(directory)
    found: list[Resource] = []
    for entry in k.get("resources", []):
        target = (directory / entry).resolve()
        found += _resources(target) if target.is_dir() else _docs(target)
    added = dict(k.get("commonLabels", {}))
    for entry in k.get("labels", []):
        added.update(entry["pairs"])
    assert not (added and k.get("kind") == "Component"), "component labels are not read here"
    for resource in found:
        resource["metadata"]["labels"] = {**resource["metadata"].get("labels", {}), **added}
    for entry in k.get("components", []):
        found += _resources((directory / entry).resolve())
    return found


def _patches(directory: Path) -> Iterator[tuple[Path, Resource]]:
    """The patches of a kustomization and of every kustomization it builds on."""
    k = _kustomization(directory)
    assert not {"patchesJson6902", "patchesStrategicMerge"} & set(k), (
        f"{directory}: use 'patches:', which this check reads"
    )
    for entry in [*k.get("resources", []), *k.get("components", [])]:
        target = (directory / entry).resolve()
        if target.is_dir():
            yield from _patches(target)
    for patch in k.get("patches", []):
        yield directory, patch


def _labels_match(selector: str, labels: dict[str, str]) -> bool:
    for term in (t.strip() for t in selector.split(",")):
        match = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term)
        if match is None:
            assert re.fullmatch(r"[\w./-]+", term), f"label selector {term!r} is not read here"
            if term not in labels:
                return False
            continue
        key, op, value = match.groups()
        if (labels.get(key) == value) != (op != "!="):
            return False
    return True


def _selected(target: Resource, resource: Resource) -> bool:
    meta = resource["metadata"]
    group, _, version = resource["apiVersion"].rpartition("/")
    for field, actual in (
        ("kind", resource["kind"]),
        ("name", meta["name"]),
        ("group", group),
        ("version", version),
    ):
        # Kustomize anchors each of these regular expressions at both ends.
        if field in target and not re.fullmatch(target[field], actual):
            return False
    if "labelSelector" in target:
        return _labels_match(target["labelSelector"], meta.get("labels", {}))
    return True


def _pointer(path: str) -> list[str]:
    assert path.startswith("/"), path
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _lookup(doc: Any, tokens: list[str]) -> tuple[bool, Any]:
    for token in tokens:
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return False, None
    return True, doc


def _json6902_problems(ops: list[Resource], resource: Resource) -> list[str]:
    """Why RFC 6902 operations would not apply to ``resource`` (empty when they all apply)."""
    problems = []
    for op in ops:
        tokens = _pointer(op["path"])
        if op["op"] in ("add", "move", "copy"):
            found, parent = _lookup(resource, tokens[:-1])
            last = tokens[-1]
            fits = found and (
                isinstance(parent, dict)
                or (isinstance(parent, list) and (last == "-" or int(last) <= len(parent)))
            )
            if not fits:
                problems.append(f"{op['op']} {op['path']}: the parent path is missing")
        elif not _lookup(resource, tokens)[0]:
            problems.append(f"{op['op']} {op['path']}: the path is missing")
        if op["op"] in ("move", "copy") and not _lookup(resource, _pointer(op["from"]))[0]:
            problems.append(f"{op['op']} from {op['from']}: the path is missing")
    return problems


def _strategic_problems(patch: Resource, resource: Resource) -> list[str]:
    """Containers a strategic merge patch names that the resource lacks (it would add them)."""
    problems = []
    for field in ("containers", "initContainers"):
        wanted = patch.get("spec", {}).get("template", {}).get("spec", {}).get(field, [])
        have = {c["name"] for c in resource["spec"]["template"]["spec"].get(field, [])}
        problems += [f"no {field[:-1]} {c['name']!r}" for c in wanted if c["name"] not in have]
    return problems


def patch_problems(directory: Path) -> list[str]:
    """Every patch of ``directory`` (an overlay) that would not apply to a resource it targets."""
    universe = _resources(directory)
    problems = []
    for where, entry in _patches(directory):
        text = entry["patch"] if "patch" in entry else (where / entry["path"]).read_text()
        body = yaml.safe_load(text)
        if isinstance(body, list):
            targeted = [r for r in universe if _selected(entry["target"], r)]
            assert targeted, f"{where}: a patch targets nothing: {entry['target']}"
            for resource in targeted:
                problems += [
                    f"{where.name} → {resource['kind']}/{resource['metadata']['name']}: {p}"
                    for p in _json6902_problems(body, resource)
                ]
        else:
            target = entry.get("target") or {
                "kind": body["kind"],
                "name": re.escape(body["metadata"]["name"]),
            }
            targeted = [r for r in universe if _selected(target, r)]
            assert targeted, f"{where}: a strategic patch targets nothing: {target}"
            for resource in targeted:
                problems += [
                    f"{where.name} → {resource['metadata']['name']}: {p}"
                    for p in _strategic_problems(body, resource)
                ]
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_patch_applies_to_every_resource_it_targets(overlay: str) -> None:
    assert patch_problems(K8S / "overlays" / overlay) == []


def test_the_patch_check_refuses_an_append_to_a_missing_env(tmp_path: Path) -> None:
    """The component's first version targeted every Deployment, the collector's own included."""
    base = tmp_path / "base"
    overlay = tmp_path / "overlay"
    base.mkdir()
    overlay.mkdir()
    (base / "kustomization.yaml").write_text("resources: [app.yaml, collector.yaml]\n")
    for name, env in (("app", "\n          env: [{name: A, value: b}]"), ("collector", "")):
        (base / f"{name}.yaml").write_text(
            "apiVersion: apps/v1\nkind: Deployment\n"
            f"metadata: {{name: {name}, labels: {{tier: {name}}}}}\n"
            "spec:\n  template:\n    spec:\n      containers:\n"
            f"        - name: {name}{env}\n"
        )
    append = (
        "  - target: {kind: Deployment%s}\n"
        "    patch: |-\n"
        "      - op: add\n"
        "        path: /spec/template/spec/containers/0/env/-\n"
        "        value: {name: X, value: y}\n"
    )
    (overlay / "kustomization.yaml").write_text("resources: [../base]\npatches:\n" + append % "")
    assert patch_problems(overlay) == [
        "overlay → Deployment/collector: add /spec/template/spec/containers/0/env/-: "
        "the parent path is missing"
    ]
    (overlay / "kustomization.yaml").write_text(
        "resources: [../base]\npatches:\n" + append % ", labelSelector: tier=app"
    )
    assert patch_problems(overlay) == []


# --- the overlays as kustomize renders them -------------------------------------------------


def _kustomize_command() -> list[str] | None:
    if binary := shutil.which("kustomize"):
        return [binary, "build"]
    if binary := shutil.which("kubectl"):
        return [binary, "kustomize"]
    return None


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Resource]]:
    command = _kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    out = {}
    for overlay in OVERLAYS:
        result = subprocess.run(
            [*command, str(K8S / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        out[overlay] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_builds_and_every_service_exports_traces_to_the_collector(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    docs = rendered[overlay]
    by_kind: dict[str, dict[str, Resource]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    deployments = by_kind["Deployment"]
    assert set(deployments) == {*SERVICES, "otel-collector"}
    for name in SERVICES:
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        endpoints = [e["value"] for e in container["env"] if e["name"] == OTLP]
        assert endpoints == ["http://otel-collector:4318"], name
    assert "otel-collector" in by_kind["Service"]
    assert {"habyss-migrate", "habyss-knowledge-ingest"} <= set(by_kind["Job"])
    # The services find the collector by its short name, so it must share their namespace.
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    assert namespaces == {"habyss"}


def test_prod_pins_every_habyss_image_and_dev_runs_one_replica(
    rendered: dict[str, list[Resource]],
) -> None:
    def images(docs: list[Resource]) -> list[str]:
        return [
            c["image"]
            for d in docs
            if d["kind"] in ("Deployment", "Job")
            for c in d["spec"]["template"]["spec"]["containers"]
            if c["image"].startswith("habyss/")
        ]

    prod = images(rendered["prod"])
    assert len(prod) == len(SERVICES) + 2  # the services, the migration and the ingestion
    assert all(image.endswith(":1.0.0") for image in prod), prod
    replicas = [d["spec"]["replicas"] for d in rendered["dev"] if d["kind"] == "Deployment"]
    assert replicas and set(replicas) == {1}


# --- what an SRE checks before applying them --------------------------------------------------

KUBERNETES_VERSION = "1.32"
# Custom resources of the Prometheus Operator: kubernetes-validate has no schema for them, so
# their shape is checked by the tests below instead.
OPERATOR_KINDS = {"PodMonitor", "PrometheusRule"}
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|DATABASE_URL|API_KEY|VAPID", re.I)
EXPORTER_SERIES = {
    "jetstream_consumer_num_pending",
    "jetstream_consumer_num_ack_pending",
    "jetstream_stream_total_messages",
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_resource_matches_the_kubernetes_schema(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    problems = []
    for doc in rendered[overlay]:
        if doc["kind"] in OPERATOR_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert problems == []


def test_the_validator_rejects_a_misspelt_field() -> None:
    deployment = copy.deepcopy(_deployment("gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def _pods(docs: list[Resource]) -> list[tuple[str, Resource]]:
    """Each Deployment's and Job's name with its pod template."""
    return [
        (d["metadata"]["name"], d["spec"]["template"])
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    ]


def _selects(selector: Resource, labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "Exists" and value is None:
            return False
    return True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_is_probed_budgeted_and_locked_down(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    docs = rendered[overlay]
    budgets = [d["spec"]["selector"] for d in docs if d["kind"] == "PodDisruptionBudget"]
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]
        for container in pod["spec"]["containers"]:
            assert {"readinessProbe", "livenessProbe", "startupProbe"} <= set(container), doc
        _assert_locked_down(pod["spec"])
        labels = pod["metadata"]["labels"]
        assert sum(_selects(b, labels) for b in budgets) == 1, doc["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_traffic_is_denied_but_for_the_flows_of_the_design(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    docs = rendered[overlay]
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    pods = _pods(docs)
    for name, spec in policies.items():
        # A policy that selects no pod is a typo that silently allows nothing.
        assert any(
            _selects(spec["podSelector"], p["metadata"].get("labels", {})) for _, p in pods
        ), name

    def ingress_ports(labels: dict[str, str]) -> set[int]:
        return {
            port["port"]
            for spec in policies.values()
            if "Ingress" in spec["policyTypes"] and _selects(spec["podSelector"], labels)
            for rule in spec.get("ingress", [])
            if "from" not in rule  # open to any source
            for port in rule.get("ports", [])
        }

    # Only the gateway takes traffic from anywhere; the others only from monitoring or the bus.
    for name, pod in pods:
        open_ports = ingress_ports(pod["metadata"].get("labels", {}))
        assert open_ports == ({8000} if name == "gateway" else set()), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_secret_objects_never_config_maps(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    docs = rendered[overlay]
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            leaked = [k for k in doc.get("data", {}) if SECRET_WORDS.search(k)]
            assert leaked == [], doc["metadata"]["name"]
    for name, pod in _pods(docs):
        for container in pod["spec"]["containers"]:
            for env in container.get("env", []):
                if SECRET_WORDS.search(env["name"]):
                    assert "secretKeyRef" in env.get("valueFrom", {}), (name, env["name"])


def test_the_slo_rules_read_only_series_that_exist(rendered: dict[str, list[Resource]]) -> None:
    import services.gateway.outbox  # noqa: F401  (registers the outbox counters)
    import shared.slo_metrics  # noqa: F401

    docs = rendered["prod"]
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r}
    records = {r["record"] for g in rule["spec"]["groups"] for r in g["rules"] if "record" in r}
    # The issue's four: error rate, turn latency, consumer lag, DLQ growth.
    assert {"HabyssErrorBudgetFastBurn", "HabyssChatTurnsSlow", "HabyssConsumerLag",
            "HabyssDeadLettersGrowing"} <= set(alerts)  # fmt: skip
    ours = {m.name for m in REGISTRY.collect()}
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            for series in re.findall(r"\b(?:habyss|jetstream)_[a-z_]+\b", r["expr"]):
                base = re.sub(r"_(bucket|count|sum|total)$", "", series)
                assert base in ours or series in EXPORTER_SERIES, (r.get("alert"), series)
            for used in re.findall(r"\bhabyss:[a-z0-9_:]+", r["expr"]):
                assert used in records, used
    for alert in alerts.values():
        assert alert["labels"]["severity"] in {"page", "ticket"}
        assert alert["annotations"]["runbook"].startswith("docs/slo.md#")
    monitors = [d for d in docs if d["kind"] == "PodMonitor"]
    assert monitors and monitors[0]["spec"]["podMetricsEndpoints"][0]["path"] == "/metrics"


# --- autoscaling ------------------------------------------------------------------------------


def _autoscalers() -> dict[str, Resource]:
    docs = _docs(K8S / "base" / "autoscaling.yaml")
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "HorizontalPodAutoscaler"}


def test_every_service_scales_on_cpu_from_its_deployment_replicas() -> None:
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert "autoscaling.yaml" in base["resources"]
    autoscalers = _autoscalers()
    assert set(autoscalers) == set(SERVICES)
    for name, hpa in autoscalers.items():
        kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)
        spec = hpa["spec"]
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        deployment = _deployment(name)
        assert spec["minReplicas"] == deployment["spec"]["replicas"] < spec["maxReplicas"], name
        (metric,) = spec["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # Utilisation is of the request: a container without a CPU request cannot be scaled.
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "cpu" in container["resources"]["requests"]


def test_a_gateway_pod_runs_one_worker_process_and_the_autoscaler_adds_pods() -> None:
    (container,) = _deployment("gateway")["spec"]["template"]["spec"]["containers"]
    assert {"name": "GATEWAY_WORKERS", "value": "1"} in container["env"]


def test_dev_autoscalers_stay_small(rendered: dict[str, list[Resource]]) -> None:
    hpas = [d for d in rendered["dev"] if d["kind"] == "HorizontalPodAutoscaler"]
    assert len(hpas) == len(SERVICES)
    assert {(d["spec"]["minReplicas"], d["spec"]["maxReplicas"]) for d in hpas} == {(1, 2)}
