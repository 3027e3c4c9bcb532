"""The census of the demo company: how many records of each kind the gateway lists, and
how they divide by status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from deploy.local.seed_api import Api, gather


@dataclass(frozen=True)
class Census:
    """How many records of each kind the company has, and by status where there is one."""

    counts: dict[str, int]
    statuses: dict[str, Counter[str]]

    def line(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.counts.items())

    def details(self) -> list[str]:
        return [
            f"  {name}: " + ", ".join(f"{n} {status}" for status, n in sorted(counter.items()))
            for name, counter in self.statuses.items()
        ]


# name, role reading it, path, the field to count by
CENSUS = (
    ("employees", "hr", "/api/erp/employees", "status"),
    ("departments", "hr", "/api/erp/departments", None),
    ("warehouses", "warehouse", "/api/erp/warehouses", None),
    ("products", "warehouse", "/api/erp/products", "active"),
    ("stock levels", "warehouse", "/api/erp/stock", None),
    ("stock movements", "warehouse", "/api/erp/stock/movements", "kind"),
    ("customers", "sales_manager", "/api/crm/customers", "kind"),
    ("leads", "sales_manager", "/api/crm/leads", "status"),
    ("opportunities", "sales_manager", "/api/crm/opportunities", "stage"),
    ("quotes", "sales_manager", "/api/crm/quotes", "status"),
    ("orders", "finance", "/api/erp/orders", "status"),
    ("shipments", "warehouse", "/api/erp/shipments", None),
    ("invoices", "finance", "/api/erp/invoices", "status"),
    ("payments", "finance", "/api/erp/payments", "method"),
    ("activities", "sales_manager", "/api/crm/activities", "kind"),
    ("inquiries", "support", "/api/crm/inquiries", "status"),
    ("journal entries", "finance", "/api/erp/ledger/journal-entries", "source_type"),
    ("budgets", "finance", "/api/erp/budgets", None),
)


def _label(value: Any, by: str) -> str:
    if isinstance(value, bool):
        return by if value else f"in{by}"
    return str(value)


async def census(api: Api) -> Census:
    found = await gather(*(api.get_all(role, path) for _, role, path, _ in CENSUS))
    counts: dict[str, int] = {}
    statuses: dict[str, Counter[str]] = {}
    for (name, _, _, by), items in zip(CENSUS, found, strict=True):
        counts[name] = len(items)
        if by:
            statuses[name] = Counter(_label(item[by], by) for item in items)
        if name == "customers":
            contacts = await gather(
                *(
                    api.get_all("sales_manager", f"/api/crm/customers/{c['id']}/contacts")
                    for c in items
                )
            )
            counts["contacts"] = sum(len(listed) for listed in contacts)
    return Census(counts, statuses)
