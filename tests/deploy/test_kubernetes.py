"""The Kubernetes deployment (deploy/k8s): each overlay renders with kustomize, every
document is valid against the Kubernetes schemas (offline), and the manifests hold what
operators count on: probes, limits, non-root pods, autoscalers and budgets on real
targets, migrations per service, and settings every process can start with."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from cryptography.fernet import Fernet
from pydantic_settings import BaseSettings
from sqlalchemy.pool import QueuePool

from crm.config import Settings as CrmSettings
from crm.integration import handlers as crm_handlers
from deploy.k8s.kubectl import DEFAULT_TOOLS, INSTALLED_AS, find_kubectl, usable
from erp.config import Settings as ErpSettings
from erp.integration import handlers as erp_handlers
from gateway.config import Settings as GatewaySettings
from gateway.integration import handlers as gateway_handlers
from shared_schemas.database import create_engine
from shared_schemas.events.catalogue import topic
from shared_schemas.identity.development import DEVELOPMENT_KEY_ID, DEVELOPMENT_PRIVATE_KEY_PEM
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.service import CompanySettings, ServiceSettings
from tests.deploy.k8s_manifests import (
    Manifest,
    Rendered,
    container_env,
    containers,
    labels,
    pod_spec,
    render,
    secret_refs,
    selects,
)
from tests.deploy.topic_plan import needed_topics, planned_topics
from tests.support.gateway_identity import new_pem

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests are meant for, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.29", kubernetes_validate.latest_version())
ENV_PREFIXES = ("CRM_", "ERP_", "GATEWAY_", "KAFKA_", "COMPANY_")

# Per service (the app.kubernetes.io/name label): image, settings, consumer's handlers,
# and its Deployments and Job by process.
SERVICES: dict[str, dict[str, Any]] = {
    "crm-service": {
        "image": "crm-service",
        "scripts": "crm",
        "settings": CrmSettings,
        "handlers": crm_handlers,
        "workloads": {
            "api": "crm-api",
            "relay": "crm-relay",
            "consumer": "crm-consumer",
            "migration": "crm-migrate",
        },
    },
    "erp-service": {
        "image": "erp-service",
        "scripts": "erp",
        "settings": ErpSettings,
        "handlers": erp_handlers,
        "workloads": {
            "api": "erp-api",
            "relay": "erp-relay",
            "consumer": "erp-consumer",
            "migration": "erp-migrate",
        },
    },
    "gateway": {
        "image": "gateway",
        "scripts": "gateway",
        "settings": GatewaySettings,
        "handlers": gateway_handlers,
        "workloads": {
            "api": "gateway",
            "relay": "gateway-relay",
            "consumer": "gateway-consumer",
            "migration": "gateway-migrate",
        },
    },
}
API_PORTS = {"crm-api": 8001, "erp-api": 8002, "gateway": 8000}
PLACEHOLDER_URL = "postgresql+asyncpg://app:placeholder@database:5432/app"


# What the Secrets that production creates outside the repository hold (deploy/k8s/README.md).
PRODUCTION_SECRETS = {
    ("crm-database", "url"): PLACEHOLDER_URL,
    ("erp-database", "url"): PLACEHOLDER_URL,
    ("gateway-database", "url"): PLACEHOLDER_URL,
    ("gateway-signing-key", "signing-key.pem"): new_pem(),
    ("gateway-webhook-keys", "keys.json"): json.dumps([Fernet.generate_key().decode()]),
    ("kafka-client", "sasl-username"): "crm-erp",
    ("kafka-client", "sasl-password"): "placeholder",
    ("kafka-client", "ca.crt"): "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
    ("gateway-redis", "url"): "redis://redis:6379/0",
}
OPTIONAL_SECRETS = {
    ("gateway-signing-key", "key-id"),
    ("gateway-signing-key", "retired-jwks.json"),
    ("gateway-bootstrap-admin", "username"),
    ("gateway-bootstrap-admin", "password"),
}


def outside_secret(name: str, key: str) -> str | None:
    assert (name, key) in PRODUCTION_SECRETS or (name, key) in OPTIONAL_SECRETS, (
        f"Secret {name} key {key} is not documented as one production creates"
    )
    return PRODUCTION_SECRETS.get((name, key))


@pytest.fixture(scope="module")
def kubectl() -> Path:
    return find_kubectl()


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, kubectl: Path) -> Rendered:
    return Rendered(request.param, render(request.param, kubectl))


def service_of(workload: Manifest) -> dict[str, Any]:
    return SERVICES[labels(workload)["app.kubernetes.io/name"]]


def _service_workloads(rendered: Rendered) -> list[tuple[dict[str, Any], str, Manifest]]:
    found = []
    for service in SERVICES.values():
        for process, name in service["workloads"].items():
            kind = "Job" if process == "migration" else "Deployment"
            found.append((service, process, rendered.named(kind, name)))
    return found


def test_every_document_is_valid_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    assert rendered.documents
    for document in rendered.documents:
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = f"{document['kind']}/{document['metadata']['name']}"
                path = "/".join(str(part) for part in exc.path)
                pytest.fail(f"{rendered.overlay} {where} at {path} ({version}): {exc.message}")


def distinct_kubectls(candidates: list[Path | str | None]) -> list[Path]:
    """The usable ones among `candidates`, one per distinct binary (the same file reached by
    another path, or a byte-identical copy, counts once)."""
    found: dict[str, Path] = {}
    for candidate in candidates:
        if candidate and usable(candidate):
            digest = hashlib.sha256(Path(candidate).resolve().read_bytes()).hexdigest()
            found.setdefault(digest, Path(candidate))
    return list(found.values())


def test_every_kubectl_at_hand_renders_the_same(kubectl: Path) -> None:
    # The one the tests use, $KUBECTL, the one on PATH and the one the project installs into
    # .tools/, whichever of them are there.
    kubectls = distinct_kubectls(
        [kubectl, os.environ.get("KUBECTL"), shutil.which("kubectl"), DEFAULT_TOOLS / INSTALLED_AS]
    )
    if len(kubectls) < 2:
        pytest.skip(f"one kubectl binary at hand ({kubectls[0]}): nothing to compare it with")
    first, *others = kubectls
    for overlay in OVERLAYS:
        expected = render(overlay, first)
        for other in others:
            assert render(overlay, other) == expected, f"{other} renders {overlay} differently"


def test_every_object_is_in_the_namespace_with_the_common_labels(rendered: Rendered) -> None:
    for document in rendered.documents:
        metadata = document["metadata"]
        if document["kind"] == "Namespace":
            assert metadata["name"] == "crm-erp"
            continue
        assert metadata["namespace"] == "crm-erp", metadata["name"]
        assert metadata["labels"]["app.kubernetes.io/part-of"] == "crm-erp", metadata["name"]


def test_each_service_runs_api_relay_consumer_and_a_migration(rendered: Rendered) -> None:
    by_process = [(p, name) for s in SERVICES.values() for p, name in s["workloads"].items()]
    migrations = {name for process, name in by_process if process == "migration"}
    assert rendered.names("Deployment") == {name for _, name in by_process} - migrations
    assert rendered.names("Job") == migrations | {"kafka-topics"}
    for service, process, workload in _service_workloads(rendered):
        name = workload["metadata"]["name"]
        (container,) = pod_spec(workload)["containers"]
        image = container["image"].split("@")[0].split(":")[0]
        assert image == service["image"], name
        command = container.get("command", []) + container.get("args", [])
        if process == "migration":  # in the service's image, where its alembic.ini is
            assert command == ["alembic", "-c", "alembic.ini", "upgrade", "head"], name
            assert pod_spec(workload)["restartPolicy"] == "Never", name
        else:
            assert command == [f"{service['scripts']}-{process}"], name


def test_each_process_starts_once_its_database_is_migrated(rendered: Rendered) -> None:
    for service, process, workload in _service_workloads(rendered):
        if process == "migration":
            continue
        name = workload["metadata"]["name"]
        (wait,) = pod_spec(workload)["initContainers"]
        (container,) = pod_spec(workload)["containers"]
        script = f"{service['scripts']}-wait-for-schema"
        assert wait["image"] == container["image"], name
        assert wait["command"] == [script], name
        pyproject = tomllib.loads((ROOT / service["image"] / "pyproject.toml").read_text())
        assert script in pyproject["project"]["scripts"], f"the image has no {script}"
        database = f"{service['settings'].model_config['env_prefix']}DATABASE_URL"
        waits_on = container_env(rendered, wait, outside_secret)[database]
        assert waits_on == container_env(rendered, container, outside_secret)[database], name


def test_processes_with_an_http_port_are_probed(rendered: Rendered) -> None:
    for deployment in rendered.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        for container in pod_spec(deployment)["containers"]:  # init containers end, unprobed
            ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
            assert ports, f"{name} serves nothing to probe"
            liveness = container["livenessProbe"]["httpGet"]
            assert liveness["port"] in ports, name
            annotations = deployment["spec"]["template"]["metadata"]["annotations"]
            scraped = int(annotations["prometheus.io/port"])
            if "http" in ports:  # an API: alive, ready when its database answers
                assert liveness["path"] == "/healthz", name
                readiness = container["readinessProbe"]["httpGet"]
                assert (readiness["path"], readiness["port"]) == ("/readyz", "http"), name
                assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
                assert scraped == ports["http"], name
            else:  # relay and consumer serve their metrics only
                assert (liveness["path"], liveness["port"]) == ("/metrics", "metrics"), name
                assert scraped == ports["metrics"], name


def test_apis_keep_answering_until_they_leave_the_endpoints(rendered: Rendered) -> None:
    """A rolling update refuses no connection: each API waits a moment before it stops, and
    the wait fits in the pod's grace period with time left to finish what is in flight."""
    for deployment in rendered.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        spec = pod_spec(deployment)
        for container in spec["containers"]:
            if "http" not in {port["name"] for port in container.get("ports", [])}:
                continue
            command = container["lifecycle"]["preStop"]["exec"]["command"]
            assert command[0] == "sleep", name
            grace = spec.get("terminationGracePeriodSeconds", 30)  # Kubernetes' default
            assert 0 < int(command[1]) <= grace - 15, name


def test_every_container_has_requests_and_limits(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        for container in containers(workload):
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources[bound]) >= {"cpu", "memory"}, workload["metadata"]["name"]


def test_every_pod_runs_as_non_root_with_a_read_only_root(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        name, spec = workload["metadata"]["name"], pod_spec(workload)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod.get("runAsUser", 1) != 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert context.get("runAsNonRoot", True) is True, name


def test_autoscalers_and_budgets_target_existing_deployments(rendered: Rendered) -> None:
    deployments = {item["metadata"]["name"]: item for item in rendered.of_kind("Deployment")}
    for autoscaler in rendered.of_kind("HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert target["name"] in deployments, autoscaler["metadata"]["name"]
        assert "replicas" not in deployments[target["name"]]["spec"], "the autoscaler's to set"
    for budget in rendered.of_kind("PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        matched = [name for name, item in deployments.items() if selects(selector, item)]
        assert len(matched) == 1, f"{budget['metadata']['name']} selects {matched}"
    budgeted = [
        name
        for name, item in deployments.items()
        for budget in rendered.of_kind("PodDisruptionBudget")
        if selects(budget["spec"]["selector"]["matchLabels"], item)
    ]
    assert sorted(budgeted) == sorted(deployments), "one budget per Deployment"


def test_consumers_scale_at_most_to_their_partitions(rendered: Rendered) -> None:
    autoscalers = {
        item["spec"]["scaleTargetRef"]["name"]: item["spec"]
        for item in rendered.of_kind("HorizontalPodAutoscaler")
    }
    for service in SERVICES.values():
        consumer = service["workloads"]["consumer"]
        read = {model.topic for model in service["handlers"](service["settings"]())}
        partitions = max(topic(name).partitions for name in read)
        if rendered.overlay == "dev":
            assert consumer not in autoscalers
            continue
        spec = autoscalers[consumer]
        assert 1 <= spec["minReplicas"] <= spec["maxReplicas"] <= partitions, consumer
        api = autoscalers[service["workloads"]["api"]]
        assert api["minReplicas"] >= 2, "an API survives losing a pod"


def test_dev_runs_one_pod_of_each_process(kubectl: Path) -> None:
    dev = Rendered("dev", render("dev", kubectl))
    assert not dev.of_kind("HorizontalPodAutoscaler")
    for deployment in dev.of_kind("Deployment"):
        assert deployment["spec"].get("replicas", 1) == 1, deployment["metadata"]["name"]


def test_api_services_and_the_ingress_reach_the_apis(rendered: Rendered) -> None:
    for name, port in API_PORTS.items():
        service = rendered.named("Service", name)
        (service_port,) = service["spec"]["ports"]
        assert service_port["port"] == port, name
        deployment = rendered.named("Deployment", name)
        assert selects(service["spec"]["selector"], deployment), name
        (container,) = pod_spec(deployment)["containers"]
        named_ports = {item["name"]: item["containerPort"] for item in container["ports"]}
        assert named_ports[service_port["targetPort"]] == port, name
    (ingress,) = rendered.of_kind("Ingress")
    routes = {}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "gateway", "only the gateway is public"
            assert backend["port"] == {"name": "http"}
            routes[path["path"]] = path["pathType"]
    assert {"/api", "/auth", "/.well-known", "/openapi.json", "/docs"} <= set(routes)
    assert not {"/", "/metrics", "/healthz", "/readyz"} & set(routes), "kept inside"
    if rendered.overlay == "prod":
        assert ingress["spec"]["tls"][0]["secretName"]


def test_the_topics_job_creates_every_catalogue_topic_with_the_replication_factor(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Job's command, run with its container's environment (the broker call recorded,
    not made), asks for every topic the platform needs with its catalogue partition count,
    and nothing else."""
    job = rendered.named("Job", "kafka-topics")
    (container,) = pod_spec(job)["containers"]
    env = container_env(rendered, container, outside_secret)
    command = [  # Kubernetes expands $(VAR) from the container's environment
        re.sub(r"\$\((\w+)\)", lambda found: env[found.group(1)], part)
        for part in container["command"]
    ]
    plan = planned_topics(command, env, monkeypatch)
    assert sorted(plan.topics) == needed_topics(), "the Job does not create the catalogue"
    assert plan.replication_factor == (1 if rendered.overlay == "dev" else 3)
    assert plan.settings.bootstrap_servers == env["KAFKA_BOOTSTRAP_SERVERS"]
    assert "topics created" in capsys.readouterr().out


def test_a_first_install_can_create_the_topics_before_any_relay_or_consumer_starts(
    rendered: Rendered,
) -> None:
    """The staged apply of docs/operations.md (a release of one service): what has no
    component label (namespace and settings), then the `migration` component (the
    migration Jobs and kafka-topics), waited for, and only then the rest. The first two
    steps hold every Job and what the Jobs read, and no relay or consumer, so an operator
    may also stage a first install that way."""

    def component(document: Manifest) -> str | None:
        return labels(document).get("app.kubernetes.io/component")

    first = {(d["kind"], d["metadata"]["name"]) for d in rendered.documents if not component(d)}
    assert {kind for kind, _ in first} <= {"Namespace", "ConfigMap", "Secret"}, first
    jobs = [d for d in rendered.documents if component(d) == "migration"]
    assert {(d["kind"], d["metadata"]["name"]) for d in jobs} == {
        ("Job", name) for name in rendered.names("Job")
    }
    assert "kafka-topics" in rendered.names("Job")
    for job in jobs:
        name = job["metadata"]["name"]
        for container in containers(job):
            read = {
                (kind, source[ref]["name"])
                for source in container.get("envFrom", [])
                for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef"))
                if ref in source
            }
            read |= {
                ("ConfigMap", v["valueFrom"]["configMapKeyRef"]["name"])
                for v in container.get("env", [])
                if "configMapKeyRef" in v.get("valueFrom", {})
            }
            assert read <= first, f"{name} reads {sorted(read - first)}"
        for secret, key in secret_refs(job):
            if ("Secret", secret) not in first:
                outside_secret(secret, key)  # created before the first apply


def _set_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _required_env(settings: type[BaseSettings]) -> set[str]:
    prefix = settings.model_config.get("env_prefix", "")
    return {
        f"{prefix}{name}".upper()
        for name, field in settings.model_fields.items()
        if field.is_required()
    }


def test_every_process_starts_with_the_settings_it_is_given(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = {"dev": "development", "prod": "production"}[rendered.overlay]
    for service, process, workload in _service_workloads(rendered):
        name = workload["metadata"]["name"]
        (container,) = pod_spec(workload)["containers"]
        env = container_env(rendered, container, outside_secret)
        settings_class: type[ServiceSettings] = service["settings"]
        prefix = settings_class.model_config["env_prefix"]
        required = _required_env(settings_class) | _required_env(KafkaSettings)
        required |= _required_env(CompanySettings)
        # What production needs beyond the classes' own defaults: a database of its own
        # (the default is a SQLite file), an address other pods reach, keys to trust.
        required |= {f"{prefix}DATABASE_URL", f"{prefix}ENVIRONMENT", f"{prefix}HOST"}
        if service["image"] == "gateway":
            if environment == "production":
                required |= {"GATEWAY_SIGNING_KEY_PEM", "GATEWAY_WEBHOOK_SECRET_KEYS"}
        else:
            required.add(f"{prefix}JWKS_URL")
        if name == "gateway":  # per-IP limits need the client's address behind the Ingress
            required.add("FORWARDED_ALLOW_IPS")
        missing = required - set(env)
        assert not missing, f"{rendered.overlay} {name} lacks {sorted(missing)}"

        with monkeypatch.context() as scoped:
            _set_environment(scoped, env)
            settings = settings_class()  # refuses development secrets in production
            kafka = KafkaSettings()
        assert settings.environment == environment, name
        assert settings.host == "0.0.0.0", name  # noqa: S104 - reached from other pods
        assert not settings.database_url.startswith("sqlite"), name
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        served = {
            "api": settings.port,
            "relay": settings.relay_metrics_port,
            "consumer": settings.consumer_metrics_port,
        }
        if process != "migration":
            assert list(ports.values()) == [served[process]], name
        assert kafka.enable_idempotence, "Apache Kafka grants idempotent producers"
        if environment == "production":
            _assert_kafka_secured(kafka, workload)


def _read_variables(settings: type[BaseSettings]) -> set[str]:
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def test_every_variable_a_container_is_given_is_a_setting_it_reads(rendered: Rendered) -> None:
    """A misspelt or foreign variable (ERP_ in a CRM pod, a setting renamed in the code) is
    silently ignored at start and the process runs on its default: each one a container
    gets is a field of its service's settings, Kafka's or the company's, or one its command
    line or its HTTP server reads."""
    shared = _read_variables(KafkaSettings) | _read_variables(CompanySettings)
    for workload in rendered.workloads():
        name = workload["metadata"]["name"]
        if name == "kafka-topics":  # platform-config, and the factor its command line reads
            known = shared | {"TOPIC_REPLICATION_FACTOR"}
        else:
            known = shared | _read_variables(service_of(workload)["settings"])
        if labels(workload)["app.kubernetes.io/name"] == "gateway":
            # Read by uvicorn, the gateway's HTTP server (in gateway-config, so every
            # gateway process is given it).
            known.add("FORWARDED_ALLOW_IPS")
        for container in containers(workload):
            given = set(container_env(rendered, container, outside_secret))
            given |= {variable["name"] for variable in container.get("env", [])}
            unknown = sorted(given - known)
            assert not unknown, f"{rendered.overlay} {name}/{container['name']}: {unknown}"


def _assert_kafka_secured(kafka: KafkaSettings, workload: Manifest) -> None:
    name = workload["metadata"]["name"]
    if labels(workload)["app.kubernetes.io/component"] == "migration":
        return  # migrations do not talk to the broker
    assert kafka.security_protocol == "SASL_SSL", name
    assert kafka.sasl_mechanism, name
    assert kafka.sasl_username, name
    assert kafka.sasl_password, name
    assert kafka.ssl_cafile, name
    (container,) = pod_spec(workload)["containers"]
    mounts = {Path(mount["mountPath"]) for mount in container["volumeMounts"]}
    assert Path(kafka.ssl_cafile).parent in mounts, f"{name}: the CA file is not mounted"
    assert ("kafka-client", "ca.crt") in secret_refs(workload), name


def _most_pods(rendered: Rendered, deployment: Manifest) -> int:
    """The most pods of a Deployment at once: its autoscaler's maximum (else its replicas)
    and the surge of a rolling update (25 % rounded up unless the strategy says)."""
    name = deployment["metadata"]["name"]
    scaled = [
        item["spec"]["maxReplicas"]
        for item in rendered.of_kind("HorizontalPodAutoscaler")
        if item["spec"]["scaleTargetRef"]["name"] == name
    ]
    replicas = max(scaled) if scaled else deployment["spec"].get("replicas", 1)
    surge = deployment["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(surge, str):
        surge = math.ceil(replicas * int(surge.rstrip("%")) / 100)
    return int(replicas + surge)


def test_the_documented_database_connections_cover_prod_at_its_maxima(kubectl: Path) -> None:
    """What each database must accept when the prod overlay runs at its autoscalers'
    maxima, mid-rollout: every process's pool full (a relay's LISTEN connection besides)
    and the migration Job's one. PostgreSQL's default `max_connections` is 100, so the
    README tells operators the number, and it stays true when the maxima change."""
    prod = Rendered("prod", render("prod", kubectl))
    needed = {}
    for service, process, workload in _service_workloads(prod):
        if process == "migration":
            count = 1
        else:
            settings = service["settings"]
            env = container_env(prod, pod_spec(workload)["containers"][0], outside_secret)
            size = env.get(
                f"{settings.model_config['env_prefix']}DATABASE_POOL_SIZE",
                settings.model_fields["database_pool_size"].default,
            )
            pool = create_engine(
                "postgresql+asyncpg://app:placeholder@database/app", pool_size=int(size)
            ).sync_engine.pool
            assert isinstance(pool, QueuePool)
            per_process = pool.size() + pool._max_overflow
            count = _most_pods(prod, workload) * (per_process + (process == "relay"))
        needed[service["image"]] = needed.get(service["image"], 0) + count
    readme = (ROOT / "deploy" / "k8s" / "README.md").read_text()
    stated = re.search(r"a service may open up to (\d+) connections", " ".join(readme.split()))
    assert stated, "deploy/k8s/README.md does not say how many connections a service opens"
    assert int(stated.group(1)) == max(needed.values()), needed


def test_gateway_and_services_find_each_other_by_service_name(rendered: Rendered) -> None:
    services = {
        item["metadata"]["name"]: item["spec"]["ports"][0]["port"]
        for item in rendered.of_kind("Service")
    }
    for deployment in rendered.of_kind("Deployment"):
        env = container_env(rendered, pod_spec(deployment)["containers"][0], outside_secret)
        for variable in ("CRM_JWKS_URL", "ERP_JWKS_URL", "GATEWAY_CRM_URL", "GATEWAY_ERP_URL"):
            if variable in env:
                found = re.match(r"http://([a-z0-9-]+):(\d+)(/.*)?$", env[variable])
                assert found, env[variable]
                assert services.get(found.group(1)) == int(found.group(2)), env[variable]
        for variable in ("CRM_JWKS_URL", "ERP_JWKS_URL"):
            if variable in env:
                assert env[variable].endswith("gateway:8000/.well-known/jwks.json")


# Settings a manifest may give inline: none is secret material.
INLINE_SETTINGS = frozenset(
    {"TOPIC_REPLICATION_FACTOR"}
    | {f"{prefix}_DATABASE_POOL_SIZE" for prefix in ("CRM", "ERP", "GATEWAY")}
)


def test_prod_holds_no_secret_and_pins_its_images(kubectl: Path) -> None:
    prod = Rendered("prod", render("prod", kubectl))
    assert not prod.of_kind("Secret"), "production's Secrets are not in the repository"
    assert DEVELOPMENT_KEY_ID not in prod.text
    key_body = DEVELOPMENT_PRIVATE_KEY_PEM.splitlines()[1]
    assert key_body not in prod.text
    for workload in prod.workloads():
        for container in containers(workload):
            image = container["image"]
            tag = image.rsplit(":", 1)[1] if ":" in image else ""
            assert "@sha256:" in image or (tag and tag not in ("latest", "dev")), image
            for variable in container.get("env", []):
                # Secret material comes from Secrets, never inline.
                assert "value" not in variable or variable["name"] in INLINE_SETTINGS
    required = {ref for workload in prod.workloads() for ref in secret_refs(workload)}
    assert required <= set(PRODUCTION_SECRETS) | OPTIONAL_SECRETS
    assert ("gateway-signing-key", "signing-key.pem") in required
    assert ("gateway-webhook-keys", "keys.json") in required


def test_dev_secrets_are_marked_as_development_only(kubectl: Path) -> None:
    dev = Rendered("dev", render("dev", kubectl))
    for secret in dev.of_kind("Secret"):
        values = dev.secret(secret["metadata"]["name"]) or {}
        assert values, secret["metadata"]["name"]
        assert all("dev-only" in value for value in values.values()), secret["metadata"]["name"]
    assert DEVELOPMENT_PRIVATE_KEY_PEM.splitlines()[1] not in dev.text
