"""Finding a service's routers and event handlers by module, so adding a resource or a
consumer is adding a module, never editing a list."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from fastapi import APIRouter

from shared_schemas.events.base import EventData
from shared_schemas.messaging.applier import Handler


def _modules(package: ModuleType) -> list[ModuleType]:
    names = sorted(module.name for module in pkgutil.iter_modules(package.__path__))
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def routers(package: ModuleType, attribute: str = "router") -> list[APIRouter]:
    """Every module-level `router` (or `attribute`) of the package's modules, in module
    name order."""
    found = [getattr(module, attribute, None) for module in _modules(package)]
    return [router for router in found if isinstance(router, APIRouter)]


def handlers(package: ModuleType, settings: Any) -> Mapping[type[EventData], Handler]:
    """The merged `handlers(settings)` of the package's modules; one handler per type."""
    merged: dict[type[EventData], Handler] = {}
    for module in _modules(package):
        offered = getattr(module, "handlers", None)
        if offered is None:
            continue
        for event_type, handler in offered(settings).items():
            if event_type in merged:
                raise RuntimeError(f"two handlers for {event_type.event_type}")
            merged[event_type] = handler
    return merged
