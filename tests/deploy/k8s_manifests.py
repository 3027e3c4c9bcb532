"""Rendered Kubernetes manifests as the tests read them: the overlay's documents, and the
environment each container would get from its ConfigMaps and Secrets."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy.k8s.kubectl import find_kubectl

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
WORKLOAD_KINDS = ("Deployment", "Job")

Manifest = dict[str, Any]
# The value a Secret outside the repository would hold, None for one that may be absent.
SecretValue = Callable[[str, str], str | None]


def render(overlay: str, kubectl: Path | None = None) -> str:
    """`kubectl kustomize` of an overlay (a kubectl found or installed by deploy/k8s)."""
    command = [str(kubectl or find_kubectl()), "kustomize", str(K8S / "overlays" / overlay)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"kustomize {overlay} failed:\n{result.stderr}"
    return result.stdout


@dataclass
class Rendered:
    overlay: str
    text: str

    def __post_init__(self) -> None:
        self.documents: list[Manifest] = [
            document for document in yaml.safe_load_all(self.text) if document
        ]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [document for document in self.documents if document["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest:
        found = [item for item in self.of_kind(kind) if item["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind} {name}, found {len(found)}"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {item["metadata"]["name"] for item in self.of_kind(kind)}

    def workloads(self) -> list[Manifest]:
        return [item for kind in WORKLOAD_KINDS for item in self.of_kind(kind)]

    def config_map(self, name: str) -> dict[str, str]:
        return dict(self.named("ConfigMap", name).get("data", {}))

    def secret(self, name: str) -> dict[str, str] | None:
        """A Secret the overlay generates (decoded), None when it is not in the render."""
        found = [item for item in self.of_kind("Secret") if item["metadata"]["name"] == name]
        if not found:
            return None
        data = {
            key: base64.b64decode(value).decode() for key, value in found[0].get("data", {}).items()
        }
        return {**data, **found[0].get("stringData", {})}


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def labels(workload: Manifest) -> dict[str, str]:
    found: dict[str, str] = workload["metadata"].get("labels", {})
    return found


def container_env(rendered: Rendered, container: Manifest, outside: SecretValue) -> dict[str, str]:
    """The environment a container starts with: its ConfigMaps and Secrets resolved, a
    Secret that is not in the render taken from `outside`."""
    env: dict[str, str] = {}

    def secret_value(name: str, key: str, optional: bool) -> str | None:
        generated = rendered.secret(name)
        value = generated.get(key) if generated is not None else outside(name, key)
        assert value is not None or optional, f"Secret {name} has no key {key}"
        return value

    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(rendered.config_map(source["configMapRef"]["name"]))
        elif "secretRef" in source:
            generated = rendered.secret(source["secretRef"]["name"])
            assert generated is not None, f"envFrom Secret {source['secretRef']['name']}"
            env.update(generated)
    for variable in container.get("env", []):
        name = variable["name"]
        if "value" in variable:
            env[name] = variable["value"]
            continue
        source = variable["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[name] = rendered.config_map(ref["name"])[ref["key"]]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = secret_value(ref["name"], ref["key"], ref.get("optional", False))
            if value is not None:
                env[name] = value
        else:
            raise AssertionError(f"{name}: unexpected source {source}")
    return env


def secret_refs(workload: Manifest) -> set[tuple[str, str]]:
    """(Secret, key) of every Secret a workload reads through env or volumes."""
    refs: set[tuple[str, str]] = set()
    for container in containers(workload):
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    for volume in pod_spec(workload).get("volumes", []):
        secret = volume.get("secret")
        if secret:
            refs |= {(secret["secretName"], item["key"]) for item in secret.get("items", [])}
    return refs


def selects(selector: dict[str, str], workload: Manifest) -> bool:
    template_labels = workload["spec"]["template"]["metadata"].get("labels", {})
    return all(template_labels.get(key) == value for key, value in selector.items())
