"""Events the gateway applies (employees terminated in ERP, the business events it keeps
for the live stream and webhooks). Each module of this package offers
`handlers(settings)`; every catalogued event is also recorded in the event history
(`history.with_history`), whatever else handles it."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from gateway.config import Settings
from gateway.integration.history import with_history
from shared_schemas import discovery
from shared_schemas.events.base import EventData
from shared_schemas.messaging import Handler


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    return with_history(discovery.handlers(sys.modules[__name__], settings))
