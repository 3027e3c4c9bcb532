"""What ERP publishes, applied to the CRM: replicas of products and employees, and the
order and invoice facts quotes, customers and timelines show."""

from __future__ import annotations

from collections.abc import Mapping

from crm.config import Settings
from crm.integration import employees, products
from shared_schemas.events.base import EventData
from shared_schemas.messaging import Handler


def handlers(settings: Settings) -> Mapping[type[EventData], Handler]:
    return {
        **products.handlers(),
        **employees.handlers(settings),
    }
