"""What ERP publishes, applied to the CRM: replicas of products and employees, and the
order and invoice facts quotes, customers and timelines show. Each module of this package
offers `handlers(settings)`; the consumer subscribes to all of them."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from crm.config import Settings
from shared_schemas.events.base import EventData
from shared_schemas.messaging import Handler


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    merged: dict[type[EventData], Handler] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for event_type, handler in loaded.handlers(settings).items():
            if event_type in merged:
                raise RuntimeError(f"two handlers for {event_type.event_type}")
            merged[event_type] = handler
    return merged
