"""What ERP publishes, applied to the CRM: replicas of products and employees, and the
order and invoice facts quotes, customers and timelines show. Each module of this package
offers `handlers(settings)`; the consumer subscribes to all of them."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from crm.config import Settings
from shared_schemas import discovery
from shared_schemas.events.base import EventData
from shared_schemas.messaging import Handler


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    return discovery.handlers(sys.modules[__name__], settings)
