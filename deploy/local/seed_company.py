"""What the demo seed has made so far, by the demo data's keys: the state its CRM and ERP
steps share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from deploy.local.seed_api import Json
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS


@dataclass
class Company:
    """Ids of what the seed made, by the demo data's keys."""

    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    departments: dict[str, str] = field(default_factory=dict)
    employees: dict[str, str] = field(default_factory=lambda: dict(DEVELOPMENT_EMPLOYEE_IDS))
    warehouses: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    leads: dict[str, str] = field(default_factory=dict)
    opportunities: dict[str, str] = field(default_factory=dict)
    orders: dict[str, Json] = field(default_factory=dict)

    def at(self, days_ago: int, hour: int) -> str:
        moment = datetime.combine(self.today - timedelta(days=days_ago), clock(hour, 30), UTC)
        return moment.isoformat()

    def day(self, days_ahead: int) -> str:
        return (self.today + timedelta(days=days_ahead)).isoformat()
