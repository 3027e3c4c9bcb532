"""Events the ERP applies: what CRM publishes (the customer replica, orders from accepted
quotes) and its own shipments, which it invoices. Each module of this package offers
`handlers(settings)`."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from erp.config import Settings
from shared_schemas import discovery
from shared_schemas.events.base import EventData
from shared_schemas.messaging import Handler


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    return discovery.handlers(sys.modules[__name__], settings)
