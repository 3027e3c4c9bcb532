"""Reading the deployment files the way compose and Docker do, offline: the compose file
with its interpolation, the Dockerfiles' instructions, and what each service expects."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from crm.config import Settings as CrmSettings
from erp.config import Settings as ErpSettings
from gateway.config import Settings as GatewaySettings
from shared_schemas.service import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "compose" / "env.example"


@dataclass(frozen=True)
class Service:
    """One of the platform's services as compose runs it."""

    name: str
    directory: str
    prefix: str
    settings: type[ServiceSettings]
    database: str
    migrate: str
    # compose service -> console script
    processes: Mapping[str, str] = field(default_factory=dict)
    # Settings a production start of this service needs, beyond the fields without default.
    production_settings: tuple[str, ...] = ()

    @property
    def api(self) -> str:
        return next(name for name, script in self.processes.items() if script.endswith("-api"))


_COMMON = ("ENVIRONMENT", "DATABASE_URL", "HOST")

SERVICES = (
    Service(
        "crm",
        "crm-service",
        "CRM",
        CrmSettings,
        "crm-db",
        "crm-migrate",
        {"crm-api": "crm-api", "crm-relay": "crm-relay", "crm-consumer": "crm-consumer"},
        (*_COMMON, "JWKS_URL"),
    ),
    Service(
        "erp",
        "erp-service",
        "ERP",
        ErpSettings,
        "erp-db",
        "erp-migrate",
        {"erp-api": "erp-api", "erp-relay": "erp-relay", "erp-consumer": "erp-consumer"},
        (*_COMMON, "JWKS_URL"),
    ),
    Service(
        "gateway",
        "gateway",
        "GATEWAY",
        GatewaySettings,
        "gateway-db",
        "gateway-migrate",
        {
            "gateway": "gateway-api",
            "gateway-relay": "gateway-relay",
            "gateway-consumer": "gateway-consumer",
        },
        (*_COMMON, "SIGNING_KEY_PEM", "WEBHOOK_SECRET_KEYS", "REDIS_URL", "CRM_URL", "ERP_URL"),
    ),
)

PROCESSES = {
    process: service for service in SERVICES for process in (*service.processes, service.migrate)
}
"""Every compose service that runs a service's image, with the service it belongs to."""


def load_compose() -> dict[str, Any]:
    """The compose file as YAML reads it: anchors and merge keys resolved, no interpolation."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's JSON Schema, as the check-jsonschema package ships it."""
    vendored = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: dict[str, Any] = json.loads(vendored.read_text())
    return schema


class MissingVariable(LookupError):
    """What compose stops with when a `${NAME:?message}` variable is unset or empty."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"required variable {name} is missing a value: {message}")
        self.name = name


_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def required_variables(text: str) -> dict[str, str]:
    """`${NAME:?message}` and `${NAME?message}` references: name -> message."""
    found: dict[str, str] = {}
    for match in _REFERENCE.finditer(text):
        if match["braced"] and match["operator"] in (":?", "?"):
            found.setdefault(match["braced"], match["argument"])
    return found


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    """Compose's interpolation of every string in `value`: `$$`, `$NAME`, `${NAME}`,
    `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`, `${NAME?message}`."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        operator, argument = match["operator"], match["argument"] or ""
        current = variables.get(name)
        unset = not current if operator in (":-", ":?") else current is None
        if operator in (":-", "-") and unset:
            return argument
        if operator in (":?", "?") and unset:
            raise MissingVariable(name, argument)
        return current or ""

    return _REFERENCE.sub(substitute, value)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int
    """Index of the build stage (FROM) the instruction belongs to."""


def read_dockerfile(path: Path) -> list[Instruction]:
    """A Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    stage = -1
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        pending = ""
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, " ".join(arguments.split()), stage))
    return instructions


def makefile_variable(name: str) -> str:
    """A `NAME := value` assignment of the Makefile."""
    match = re.search(rf"^{name}\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, f"{name} is not set in the Makefile"
    return match.group(1)


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A compose service's environment as a mapping, whichever form the file uses."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (entry.partition("=") for entry in environment)
        return {name: value for name, _, value in pairs}
    return {name: "" if value is None else str(value) for name, value in environment.items()}
