"""docker-compose.yml and the services' Dockerfiles, checked offline: the Compose
Specification, the topic catalogue, the settings each process reads in production, the
start order, and how the images are built."""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import uvicorn
from cryptography.fernet import Fernet
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from gateway.domain.identity import development_users
from gateway.service.webhook_secrets import DEVELOPMENT_SECRET_KEY
from shared_schemas.events.catalogue import CONSUMER_GROUPS, all_topics, dlq_topic
from shared_schemas.identity.development import DEVELOPMENT_KEY_ID, DEVELOPMENT_PRIVATE_KEY_PEM
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.service import CompanySettings, ServiceSettings
from tests.deploy.compose_files import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    PROCESSES,
    ROOT,
    SERVICES,
    MissingVariable,
    Service,
    compose_schema,
    environment_of,
    interpolate,
    load_compose,
    makefile_variable,
    read_dockerfile,
    required_variables,
)
from tests.deploy.topic_plan import needed_topics, planned_topics
from tests.support.gateway_identity import new_pem

pytestmark = pytest.mark.deploy

COMPOSE = load_compose()
RAW_SERVICES: dict[str, Any] = COMPOSE["services"]
REQUIRED = required_variables(COMPOSE_FILE.read_text())
PREFIXES = ("CRM_", "ERP_", "GATEWAY_", "KAFKA_", "COMPANY_")
# uvicorn's setting naming the proxies whose X-Forwarded-For it believes.
FORWARDED_ALLOW_IPS = "FORWARDED_ALLOW_IPS"
CRM, ERP, GATEWAY = (
    next(s for s in SERVICES if s.name == name) for name in ("crm", "erp", "gateway")
)


def _operator_values() -> dict[str, str]:
    """What an operator puts in .env: a password per login, fresh keys."""
    values = {name: f"{name.lower().replace('_', '')}0123456789" for name in REQUIRED}
    values["GATEWAY_SIGNING_KEY_PEM"] = new_pem()
    values["GATEWAY_WEBHOOK_SECRET_KEYS"] = json.dumps([Fernet.generate_key().decode()])
    return values


OPERATOR = _operator_values()
SERVICES_RUN: dict[str, Any] = interpolate(RAW_SERVICES, OPERATOR)


def _service(name: str) -> dict[str, Any]:
    assert name in SERVICES_RUN, f"compose service {name} is missing"
    service: dict[str, Any] = SERVICES_RUN[name]
    return service


def _depends_on(name: str) -> dict[str, str]:
    """compose service -> condition it waits for."""
    depends = _service(name).get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {
        other: (spec or {}).get("condition", "service_started") for other, spec in depends.items()
    }


def _load(settings: type[BaseSettings], process: str) -> Any:
    """The settings `process` reads from its compose environment, as it would at start."""
    environment = environment_of(_service(process))
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith(PREFIXES)}
    os.environ.update(environment)
    try:
        return settings()
    except ValueError as refused:  # pydantic's ValidationError included
        pytest.fail(f"{process} would not start with its compose environment: {refused}")
    finally:
        for name in environment:
            os.environ.pop(name, None)
        os.environ.update(saved)


def _url_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    assert parts.hostname, f"{url} names no host"
    assert parts.port, f"{url} names no port"
    return parts.hostname, parts.port


# --- the file as a whole ------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    validator = jsonschema.Draft202012Validator(compose_schema())
    errors = [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(COMPOSE), key=lambda e: e.json_path)
    ]
    assert not errors, "docker-compose.yml breaks the Compose Specification:\n" + "\n".join(errors)


def test_every_part_of_the_platform_is_a_compose_service() -> None:
    expected = {"kafka", "kafka-init", "redis", *PROCESSES}
    expected |= {service.database for service in SERVICES}
    missing = sorted(expected - set(RAW_SERVICES))
    assert not missing, f"compose services missing: {', '.join(missing)}"


@pytest.mark.parametrize("variable", sorted(REQUIRED))
def test_compose_stops_without_each_operator_variable(variable: str) -> None:
    assert variable in REQUIRED[variable], f"${{{variable}:?...}} should name the variable"
    without = {name: value for name, value in OPERATOR.items() if name != variable}
    with pytest.raises(MissingVariable) as missing:
        interpolate(RAW_SERVICES, without)
    assert missing.value.name == variable
    example = ENV_EXAMPLE.read_text()
    assert re.search(rf"^{variable}=", example, re.MULTILINE), (
        f"{variable} is required by docker-compose.yml but not listed in {ENV_EXAMPLE.name}"
    )


def test_only_the_gateway_is_published() -> None:
    published = {name: spec["ports"] for name, spec in SERVICES_RUN.items() if spec.get("ports")}
    assert set(published) == {"gateway"}, f"published services: {sorted(published)}"
    targets = [str(port).rsplit(":", 1)[-1] for port in published["gateway"]]
    gateway = _load(GATEWAY.settings, "gateway")
    assert targets == [str(gateway.port)], f"gateway publishes {targets}, listens on {gateway.port}"


# --- Kafka and its topics -----------------------------------------------------------


def test_kafka_is_one_kraft_node_without_topic_auto_creation() -> None:
    environment = environment_of(_service("kafka"))
    roles = set(environment.get("KAFKA_PROCESS_ROLES", "").split(","))
    assert roles == {"broker", "controller"}, f"kafka process roles: {sorted(roles)}"
    node = environment.get("KAFKA_NODE_ID")
    assert node, "kafka has no KAFKA_NODE_ID"
    voters = environment.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
    assert voters.startswith(f"{node}@"), f"node {node} is not its own controller: {voters}"
    assert environment.get("CLUSTER_ID"), "kafka needs a CLUSTER_ID to format its storage"
    assert environment.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", (
        "topics created on first use get the broker's partition count, not the catalogue's"
    )
    assert "healthcheck" in _service("kafka"), "kafka has no healthcheck"


def test_kafka_init_provisions_every_catalogue_topic_on_the_broker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kafka-init's command, run with its compose environment (the broker call recorded,
    not made), asks for every topic the platform needs with its catalogue partition count,
    and nothing else, on kafka. That `platform-topics` creates what it is asked for and
    fails on a mismatch is its own test."""
    init = _service("kafka-init")
    assert init["image"] == _service("crm-api")["image"], "kafka-init runs a service image"
    assert _depends_on("kafka-init") == {"kafka": "service_healthy"}
    plan = planned_topics(init["command"], environment_of(init), monkeypatch)
    assert sorted(plan.topics) == needed_topics(), "kafka-init does not create the catalogue"
    assert plan.replication_factor == 1, "one Kafka node keeps one copy"
    advertised = environment_of(_service("kafka"))["KAFKA_ADVERTISED_LISTENERS"]
    assert f"//{plan.settings.bootstrap_servers}" in advertised, (
        f"kafka-init talks to {plan.settings.bootstrap_servers}, kafka is {advertised}"
    )


@pytest.mark.parametrize("process", [p for s in SERVICES for p in s.processes])
def test_consumer_groups_have_their_dead_letter_topic(process: str) -> None:
    service = PROCESSES[process]
    settings = _load(service.settings, process)
    # Unset, the group is the service's name (its config module's SERVICE_NAME).
    group = settings.consumer_group or sys.modules[service.settings.__module__].SERVICE_NAME
    assert group in CONSUMER_GROUPS, f"{process} consumes as {group}, not a catalogue group"
    assert dlq_topic(group) in dict(all_topics()), f"no topic {dlq_topic(group)} to create"


# --- the services' processes --------------------------------------------------------


def _scripts(service: Service) -> dict[str, str]:
    pyproject = tomllib.loads((ROOT / service.directory / "pyproject.toml").read_text())
    scripts: dict[str, str] = pyproject["project"]["scripts"]
    return scripts


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_process_runs_its_own_image_and_command(process: str) -> None:
    service = PROCESSES[process]
    spec = _service(process)
    build = spec.get("build") or {}
    assert build.get("context") == ".", f"{process} must build from the repository root"
    assert build.get("dockerfile") == f"{service.directory}/Dockerfile", (
        f"{process} builds {build.get('dockerfile')}, not {service.directory}/Dockerfile"
    )
    command = spec.get("command")
    if process == service.migrate:
        assert command == ["alembic", "-c", "/app/alembic.ini", "upgrade", "head"], (
            f"{process} runs {command}"
        )
        assert spec.get("restart", "no") == "no", f"{process} is a one-shot step"
    else:
        script = service.processes[process]
        assert command == [script], f"{process} runs {command}, not {script}"
        assert script in _scripts(service), f"{script} is not a console script of {service.name}"
        assert spec.get("restart") in ("unless-stopped", "always"), f"{process} is not restarted"


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_process_gets_every_setting_it_needs(process: str) -> None:
    service = PROCESSES[process]
    environment = environment_of(_service(process))
    needed = [f"{service.prefix}_{name}" for name in service.production_settings]
    for settings, prefix in (
        (service.settings, f"{service.prefix}_"),
        (KafkaSettings, "KAFKA_"),
        (CompanySettings, "COMPANY_"),
    ):
        needed += [
            f"{prefix}{name.upper()}"
            for name, info in settings.model_fields.items()
            if info.is_required()
        ]
    needed += ["KAFKA_BOOTSTRAP_SERVERS", "KAFKA_ENABLE_IDEMPOTENCE"]
    missing = sorted(set(needed) - set(environment))
    assert not missing, f"{process} is not given {', '.join(missing)}"


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_variable_is_a_setting_someone_reads(process: str) -> None:
    service = PROCESSES[process]
    known = {f"{service.prefix}_{name.upper()}" for name in service.settings.model_fields}
    known |= {f"KAFKA_{name.upper()}" for name in KafkaSettings.model_fields}
    known |= {f"COMPANY_{name.upper()}" for name in CompanySettings.model_fields}
    if process == "gateway":
        known.add(FORWARDED_ALLOW_IPS)  # read by uvicorn, the gateway's HTTP server
    unknown = sorted(set(environment_of(RAW_SERVICES[process])) - known)
    assert not unknown, f"{process} sets variables no setting reads: {', '.join(unknown)}"


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_process_starts_in_production_mode(process: str) -> None:
    """The settings validate as the process would read them, production checks included
    (JWKS URL for the services, the gateway's own signing key)."""
    service = PROCESSES[process]
    settings: ServiceSettings = _load(service.settings, process)
    assert settings.environment == "production", f"{process} does not run in production mode"
    all_interfaces = "0.0.0.0"  # noqa: S104 - containers listen on every interface
    assert settings.host == all_interfaces, f"{process} listens on {settings.host} only"

    url = make_url(settings.database_url)
    database = environment_of(_service(service.database))
    assert url.drivername == "postgresql+asyncpg", f"{process} uses {url.drivername}"
    assert url.host == service.database, f"{process} uses the database at {url.host}"
    assert (url.username, url.database) == (database["POSTGRES_USER"], database["POSTGRES_DB"])
    assert url.password == database["POSTGRES_PASSWORD"], f"{process}'s database password"

    kafka = _load(KafkaSettings, process)
    assert kafka.enable_idempotence, f"{process} should turn the idempotent producer on"
    advertised = environment_of(_service("kafka"))["KAFKA_ADVERTISED_LISTENERS"]
    for server in kafka.bootstrap_servers.split(","):
        assert f"//{server}" in advertised, f"{process} looks for Kafka at {server}"


@pytest.mark.parametrize("service", [CRM, ERP], ids=lambda s: s.name)
def test_services_verify_tokens_with_the_gateways_keys(service: Service) -> None:
    gateway = _load(GATEWAY.settings, "gateway")
    for process in (*service.processes, service.migrate):
        settings = _load(service.settings, process)
        assert settings.jwks_url == f"http://gateway:{gateway.port}/.well-known/jwks.json", (
            f"{process} verifies tokens with {settings.jwks_url}"
        )
        assert not settings.jwks, f"{process} should fetch the gateway's keys, not pin them"
        assert (settings.jwt_issuer, settings.jwt_audience) == (
            gateway.jwt_issuer,
            gateway.jwt_audience,
        )


def test_the_gateway_can_be_told_the_address_of_a_proxy_in_front_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compose serves plain HTTP on port 8000, so production puts a TLS proxy in front, and
    then every client arrives from the proxy's address: the per-address rate limits and
    sign-in throttling would count them all as one client unless the server believes the
    proxy's X-Forwarded-For (docs/operations.md). The operator names the proxy in .env;
    unset, the server keeps its own default."""
    value = environment_of(RAW_SERVICES["gateway"]).get(FORWARDED_ALLOW_IPS)
    assert value is not None, f"the gateway is not given {FORWARDED_ALLOW_IPS}"
    assert interpolate(value, {FORWARDED_ALLOW_IPS: "172.18.0.1"}) == "172.18.0.1", (
        f"{FORWARDED_ALLOW_IPS} does not come from the operator: {value}"
    )
    monkeypatch.delenv(FORWARDED_ALLOW_IPS, raising=False)
    default = uvicorn.Config("gateway.main:create_app").forwarded_allow_ips
    assert interpolate(value, {}) == default, "unset, it should be the server's own default"
    assert re.search(rf"^#?{FORWARDED_ALLOW_IPS}=", ENV_EXAMPLE.read_text(), re.MULTILINE), (
        f"{ENV_EXAMPLE.name} does not mention {FORWARDED_ALLOW_IPS}"
    )


def test_gateway_reaches_the_services_and_redis() -> None:
    gateway = _load(GATEWAY.settings, "gateway")
    for url, service in ((gateway.crm_url, CRM), (gateway.erp_url, ERP)):
        upstream = _load(service.settings, service.api)
        assert _url_port(url) == (service.api, upstream.port), f"the gateway calls {url}"
    redis_url = gateway.redis_url or ""
    assert urlsplit(redis_url).hostname == "redis", f"shared rate limits at {redis_url!r}"
    assert urlsplit(redis_url).password == environment_of(_service("redis"))["REDISCLI_AUTH"]


def test_every_process_agrees_on_the_company_settings() -> None:
    seen = {process: _load(CompanySettings, process).model_dump() for process in PROCESSES}
    assert len({repr(sorted(values.items())) for values in seen.values()}) == 1, seen


# --- secrets ------------------------------------------------------------------------

SECRET_NAMES = re.compile(r"PASSWORD|SECRET|SIGNING_KEY_PEM|REDISCLI_AUTH")
OPERATOR_VALUE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")


def _raw_environments() -> Iterator[tuple[str, str, str]]:
    for name, spec in RAW_SERVICES.items():
        for variable, value in environment_of(spec).items():
            yield name, variable, value


def test_secrets_come_from_the_operator() -> None:
    literal = [
        f"{service}: {variable}"
        for service, variable, value in _raw_environments()
        if SECRET_NAMES.search(variable) and not OPERATOR_VALUE.match(value)
    ]
    assert not literal, "secrets written into docker-compose.yml: " + ", ".join(literal)
    for service, variable, value in _raw_environments():
        password = urlsplit(value).password if "://" in value else None
        if password is not None:
            assert OPERATOR_VALUE.match(password), f"{service}: {variable} holds a password"


def test_no_development_secret_is_deployed() -> None:
    paths = [COMPOSE_FILE, *sorted((ROOT / "deploy" / "compose").iterdir())]
    paths += [ROOT / service.directory / "Dockerfile" for service in SERVICES]
    pem_body = [line for line in DEVELOPMENT_PRIVATE_KEY_PEM.splitlines() if "-----" not in line]
    forbidden = [DEVELOPMENT_KEY_ID, *pem_body, *(user.password for user in development_users())]
    forbidden.append(DEVELOPMENT_SECRET_KEY)
    for path in paths:
        text = path.read_text()
        for secret in forbidden:
            assert secret not in text, f"{path.relative_to(ROOT)} holds a development secret"
        assert not re.search(r"\bdev-[a-z_]+\b", text), (
            f"{path.relative_to(ROOT)} holds a development password"
        )


def test_each_database_has_its_own_login_and_volume() -> None:
    seen: dict[str, set[str]] = {"user": set(), "database": set(), "password": set()}
    volumes = set()
    for service in SERVICES:
        raw = environment_of(RAW_SERVICES[service.database])
        for key, variable in (("user", "POSTGRES_USER"), ("database", "POSTGRES_DB")):
            assert raw[variable] not in seen[key], f"{service.database} shares its {key}"
            seen[key].add(raw[variable])
        password = raw["POSTGRES_PASSWORD"]
        assert password not in seen["password"], f"{service.database} shares a password"
        seen["password"].add(password)
        for volume in RAW_SERVICES[service.database].get("volumes", []):
            assert volume not in volumes, f"{service.database} shares the volume {volume}"
            volumes.add(volume)
        assert RAW_SERVICES[service.database].get("healthcheck"), (
            f"{service.database} has no healthcheck"
        )


# --- start order and health ---------------------------------------------------------


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_process_waits_for_its_database_and_migration(process: str) -> None:
    service = PROCESSES[process]
    waits = _depends_on(process)
    assert waits.get(service.database) == "service_healthy", (
        f"{process} does not wait for {service.database} to be healthy"
    )
    if process != service.migrate:
        assert waits.get(service.migrate) == "service_completed_successfully", (
            f"{process} does not wait for {service.migrate} to complete"
        )
    if process.endswith(("-relay", "-consumer")):
        assert waits.get("kafka") == "service_healthy", f"{process} does not wait for kafka"
        assert waits.get("kafka-init") == "service_completed_successfully", (
            f"{process} does not wait for the topics (kafka-init)"
        )


def test_gateway_waits_for_redis() -> None:
    assert _depends_on("gateway").get("redis") == "service_healthy"


def test_start_order_has_no_cycle_and_waits_only_for_what_exists() -> None:
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        assert name in SERVICES_RUN, f"{path[-1]} depends on unknown service {name}"
        if name in order:
            return
        for other, condition in _depends_on(name).items():
            visit(other, (*path, name))
            if condition == "service_healthy":
                assert SERVICES_RUN[other].get("healthcheck"), (
                    f"{name} waits for {other} to be healthy, but {other} has no healthcheck"
                )
        order.append(name)

    for name in SERVICES_RUN:
        visit(name, ())


@pytest.mark.parametrize("process", [p for s in SERVICES for p in s.processes])
def test_each_long_running_process_is_probed_on_its_own_port(process: str) -> None:
    service = PROCESSES[process]
    settings = _load(service.settings, process)
    script = service.processes[process]
    if script.endswith("-api"):
        expected = f"http://127.0.0.1:{settings.port}/readyz"
    elif script.endswith("-relay"):
        expected = f"http://127.0.0.1:{settings.relay_metrics_port}/metrics"
    else:
        expected = f"http://127.0.0.1:{settings.consumer_metrics_port}/metrics"
    probe = " ".join(_service(process).get("healthcheck", {}).get("test", []))
    assert f"'{expected}'" in probe, f"{process} should be probed at {expected}: {probe!r}"


# --- images -------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
def test_dockerfile_builds_from_the_lock_in_stages_and_runs_unprivileged(
    service: Service,
) -> None:
    path = ROOT / service.directory / "Dockerfile"
    instructions = read_dockerfile(path)
    stages = [i.arguments for i in instructions if i.keyword == "FROM"]
    assert len(stages) >= 2, f"{path.relative_to(ROOT)} is not a multi-stage build"
    assert all(stage.startswith("python:3.11-slim") for stage in stages), stages

    uv = makefile_variable("UV_VERSION")
    assert any(
        i.keyword == "COPY" and f"--from=ghcr.io/astral-sh/uv:{uv} " in i.arguments
        for i in instructions
    ), f"{path.relative_to(ROOT)} should copy uv {uv}, the version the Makefile pins"
    syncs = [i.arguments for i in instructions if i.keyword == "RUN" and "uv sync" in i.arguments]
    assert syncs, f"{path.relative_to(ROOT)} never runs uv sync"
    for sync in syncs:
        for flag in ("--locked", "--no-dev", f"--package {service.directory}"):
            assert flag in sync, f"{path.relative_to(ROOT)}: uv sync without {flag}"

    last = max(i.stage for i in instructions)
    users = [i.arguments for i in instructions if i.keyword == "USER" and i.stage == last]
    assert users, f"{path.relative_to(ROOT)} runs as root"
    assert users[-1].split(":")[0] not in ("root", "0"), f"{path.relative_to(ROOT)} runs as root"

    runtime = [i for i in instructions if i.stage == last]
    copied = {i.arguments.split()[-1] for i in runtime if i.keyword == "COPY"}
    assert {"/app/.venv", "/app/alembic.ini", "/app/migrations"} <= copied, copied
    default_port = service.settings.model_fields["port"].default
    exposed = [i.arguments for i in runtime if i.keyword == "EXPOSE"]
    assert exposed == [str(default_port)], f"{path.relative_to(ROOT)} exposes {exposed}"
    api_script = service.processes[service.api]
    commands = [i.arguments for i in runtime if i.keyword == "CMD"]
    assert commands == [f'["{api_script}"]'], f"{path.relative_to(ROOT)} runs {commands}"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", ".tools", ".data", ".env", "**/__pycache__", ".pytest_cache"):
        assert entry in ignored, f".dockerignore does not exclude {entry}"
