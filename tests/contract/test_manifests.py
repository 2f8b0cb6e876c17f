"""Every service has a Kubernetes manifest that an SRE can run safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
SERVICES = ["gateway", "agent", "metrics", "knowledge", "learning"]


def _deployment(name: str) -> dict[str, Any]:
    docs = list(yaml.safe_load_all((K8S / "base" / f"{name}.yaml").read_text()))
    return next(d for d in docs if d["kind"] == "Deployment")


@pytest.mark.parametrize("name", SERVICES)
def test_deployment_is_probed_limited_and_locked_down(name: str) -> None:
    spec = _deployment(name)["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/internal/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/internal/alive"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]


def test_base_lists_every_service_and_overlays_add_the_collector() -> None:
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert {f"{s}.yaml" for s in SERVICES} <= set(base["resources"])
    for overlay in ("dev", "prod"):
        kustomization = yaml.safe_load(
            (K8S / "overlays" / overlay / "kustomization.yaml").read_text()
        )
        assert "../../components/otel-collector" in kustomization["components"]
