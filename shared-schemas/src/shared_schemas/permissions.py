"""The permission table of the platform (design.md §7), written once as data.

The gateway checks a route against it (may this role use this route at all?), the
services check route, object and property level with the same rules. A grant names a
service, resources, actions and a scope: `all` records, or only the records the caller
owns (their employee id is the record's owner or assignee). Actions are `read`, `create`,
`update`, `delete` or the name of a transition route (`send`, `accept`, `release`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared_schemas.roles import Role

ANY = "*"

# Operations of the platform itself (every service's `/admin/...`: dead letters, outbox),
# never part of a business role's "everything".
OPERATIONS_RESOURCES = frozenset({"dead-letters", "outbox"})


class Scope(StrEnum):
    OWN = "own"
    ALL = "all"


@dataclass(frozen=True)
class Grant:
    service: str
    resources: frozenset[str]
    actions: frozenset[str]
    scope: Scope = Scope.ALL
    # Property level: when set, a write under this grant may touch only these fields.
    fields: frozenset[str] | None = None
    operations: bool = False

    def covers(self, service: str, resource: str, action: str) -> bool:
        wildcard = ANY in self.resources and (
            self.operations or resource not in OPERATIONS_RESOURCES
        )
        return (
            self.service in (service, ANY)
            and (wildcard or resource in self.resources)
            and (ANY in self.actions or action in self.actions)
        )


def grant(
    service: str,
    resources: str | Iterable[str],
    actions: str | Iterable[str],
    scope: Scope = Scope.ALL,
    fields: Iterable[str] | None = None,
) -> Grant:
    return Grant(
        service,
        frozenset([resources] if isinstance(resources, str) else resources),
        frozenset([actions] if isinstance(actions, str) else actions),
        scope,
        frozenset(fields) if fields is not None else None,
    )


CRM_OWNED = ("customers", "contacts", "leads", "opportunities", "quotes", "activities")
READ = "read"
CREATE = "create"

# Reading customers takes reading what their custom values are (the field definitions:
# labels, types, options), or a custom value could not be shown for what it is.
_CUSTOMERS_READ = ("customers", "custom-fields")

# An inquiry may be assigned to a sales rep (design §5), who then works it as any record
# they own: changes it and moves it through its life cycle, but opens none (support's).
_ASSIGNED_INQUIRIES = grant(
    "crm",
    "inquiries",
    ("update", "open", "pend", "resume", "resolve", "reopen", "close"),
    Scope.OWN,
)

_SALES_ERP = (
    grant("erp", ("products", "stock", "warehouses", "orders", "invoices"), READ),
    grant("erp", "orders", CREATE),
)

# Gateway routes: the event stream is every signed-in user's (filtered by what each may
# read); the customer overview follows reading CRM customers (checked in the tests);
# users and webhook subscriptions are the administrator's alone, named here rather than
# left to the administrator's "everything".
_EVENTS = grant("gateway", "events", READ)
_OVERVIEW = grant("gateway", "customer-overview", READ)
_GATEWAY_ADMINISTRATION = grant("gateway", ("users", "webhooks"), ANY)

PERMISSIONS: Mapping[Role, tuple[Grant, ...]] = {
    Role.ADMIN: (
        Grant(ANY, frozenset({ANY}), frozenset({ANY}), operations=True),
        _GATEWAY_ADMINISTRATION,
    ),
    Role.SALES: (
        grant("crm", ANY, READ),
        grant("crm", CRM_OWNED, CREATE),
        grant("crm", CRM_OWNED, ANY, Scope.OWN),
        _ASSIGNED_INQUIRIES,
        *_SALES_ERP,
        _EVENTS,
        _OVERVIEW,
    ),
    Role.SALES_MANAGER: (grant("crm", ANY, ANY), *_SALES_ERP, _EVENTS, _OVERVIEW),
    Role.SUPPORT: (
        grant("crm", (*_CUSTOMERS_READ, "contacts", "quotes", "employees"), READ),
        grant("crm", ("inquiries", "activities"), ANY),
        grant("erp", ("products", "orders", "shipments"), READ),
        _EVENTS,
        _OVERVIEW,
    ),
    Role.WAREHOUSE: (
        grant("erp", ("products", "warehouses"), ANY),
        grant("erp", "stock", (READ, CREATE)),
        grant("erp", "shipments", (READ, CREATE)),
        grant("erp", "orders", (READ, "deliver")),
        _EVENTS,
    ),
    Role.FINANCE: (
        grant("crm", _CUSTOMERS_READ, READ),
        grant("crm", "customers", "update", fields=("credit_limit", "payment_terms_days")),
        grant("erp", ("invoices", "payments", "ledger", "reports", "budgets"), ANY),
        grant("erp", "orders", (READ, "release")),
        grant("erp", "products", READ),
        _EVENTS,
        _OVERVIEW,
    ),
    Role.HR: (grant("erp", ("employees", "departments"), ANY), _EVENTS),
}

# Property level: fields only some roles may set, whatever else they may change.
RESTRICTED_FIELDS: Mapping[tuple[str, str], Mapping[str, frozenset[Role]]] = {
    ("crm", resource): {"owner_id": frozenset({Role.SALES_MANAGER, Role.ADMIN})}
    for resource in ("customers", "leads", "opportunities", "quotes")
} | {
    ("crm", "customers"): {
        "owner_id": frozenset({Role.SALES_MANAGER, Role.ADMIN}),
        "credit_limit": frozenset({Role.FINANCE, Role.SALES_MANAGER, Role.ADMIN}),
        "payment_terms_days": frozenset({Role.FINANCE, Role.SALES_MANAGER, Role.ADMIN}),
    },
    ("erp", "employees"): {
        field: frozenset({Role.HR, Role.ADMIN}) for field in ("salary", "role", "manager_id")
    },
}

# A restricted field any writer may set to their own employee id (sales take a record for
# themselves; only managers hand one to someone else).
SELF_ASSIGNABLE = frozenset({"owner_id"})

# Fields only some roles may see in any response.
VISIBLE_ONLY_TO: Mapping[tuple[str, str], Mapping[str, frozenset[Role]]] = {
    ("erp", "employees"): {"salary": frozenset({Role.HR, Role.ADMIN})},
}


def _grants(roles: Iterable[Role]) -> list[Grant]:
    return [g for role in roles for g in PERMISSIONS.get(role, ())]


def allowed_scope(roles: Iterable[Role], service: str, resource: str, action: str) -> Scope | None:
    """The widest scope in which `roles` may do `action` on `resource`, or None."""
    scopes = {g.scope for g in _grants(roles) if g.covers(service, resource, action)}
    if not scopes:
        return None
    return Scope.ALL if Scope.ALL in scopes else Scope.OWN


def may(roles: Iterable[Role], service: str, resource: str, action: str) -> bool:
    return allowed_scope(roles, service, resource, action) is not None


def forbidden_fields(
    roles: Iterable[Role],
    service: str,
    resource: str,
    action: str,
    values: Mapping[str, Any],
    *,
    own_employee_id: object = None,
) -> list[str]:
    """The fields of a write that `roles` may not set, in the order given (empty: allowed)."""
    roles = frozenset(roles)
    grants = [g for g in _grants(roles) if g.covers(service, resource, action)]
    restricted = RESTRICTED_FIELDS.get((service, resource), {})
    refused = []
    for field, value in values.items():
        if not any(g.fields is None or field in g.fields for g in grants):
            refused.append(field)
            continue
        allowed_roles = restricted.get(field)
        if allowed_roles is None or not roles.isdisjoint(allowed_roles):
            continue
        taking_for_self = (
            field in SELF_ASSIGNABLE
            and own_employee_id is not None
            and str(value) == str(own_employee_id)
        )
        if not taking_for_self:
            refused.append(field)
    return refused


def may_see_field(roles: Iterable[Role], service: str, resource: str, field: str) -> bool:
    allowed_roles = VISIBLE_ONLY_TO.get((service, resource), {}).get(field)
    return allowed_roles is None or not frozenset(roles).isdisjoint(allowed_roles)


def hidden_fields(roles: Iterable[Role], service: str, resource: str) -> frozenset[str]:
    """Fields to drop from every response of `resource` for a caller with `roles`."""
    roles = frozenset(roles)
    return frozenset(
        field
        for field, allowed in VISIBLE_ONLY_TO.get((service, resource), {}).items()
        if roles.isdisjoint(allowed)
    )
