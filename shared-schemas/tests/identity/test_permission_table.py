"""The permission table says what design.md §7 says, role by role."""

from __future__ import annotations

import pytest

from shared_schemas.permissions import (
    PERMISSIONS,
    Scope,
    allowed_scope,
    forbidden_fields,
    hidden_fields,
    may,
)
from shared_schemas.roles import Role

pytestmark = [pytest.mark.unit, pytest.mark.security]

A, S, M, SUP, W, F, H = (
    Role.ADMIN,
    Role.SALES,
    Role.SALES_MANAGER,
    Role.SUPPORT,
    Role.WAREHOUSE,
    Role.FINANCE,
    Role.HR,
)
ALL_ROLES = frozenset(Role)

# (service, resource, action) -> the roles that may, in any scope.
EXPECTED: dict[tuple[str, str, str], frozenset[Role]] = {
    ("crm", "customers", "read"): frozenset({A, S, M, SUP, F}),
    ("crm", "customers", "create"): frozenset({A, S, M}),
    ("crm", "customers", "update"): frozenset({A, S, M, F}),
    ("crm", "contacts", "read"): frozenset({A, S, M, SUP}),
    ("crm", "leads", "read"): frozenset({A, S, M}),
    ("crm", "leads", "create"): frozenset({A, S, M}),
    ("crm", "leads", "convert"): frozenset({A, S, M}),
    ("crm", "opportunities", "update"): frozenset({A, S, M}),
    ("crm", "quotes", "read"): frozenset({A, S, M, SUP}),
    ("crm", "quotes", "accept"): frozenset({A, S, M}),
    ("crm", "inquiries", "read"): frozenset({A, S, M, SUP}),
    ("crm", "inquiries", "create"): frozenset({A, M, SUP}),
    # Sales only the inquiries assigned to them (scope own, below).
    ("crm", "inquiries", "resolve"): frozenset({A, S, M, SUP}),
    ("crm", "custom-fields", "read"): frozenset({A, S, M, SUP, F}),
    ("crm", "activities", "create"): frozenset({A, S, M, SUP}),
    ("crm", "forecast", "read"): frozenset({A, S, M}),
    ("erp", "products", "read"): frozenset({A, S, M, SUP, W, F}),
    ("erp", "products", "create"): frozenset({A, W}),
    ("erp", "stock", "read"): frozenset({A, S, M, W}),
    ("erp", "stock", "create"): frozenset({A, W}),
    ("erp", "warehouses", "create"): frozenset({A, W}),
    ("erp", "orders", "read"): frozenset({A, S, M, SUP, W, F}),
    ("erp", "orders", "create"): frozenset({A, S, M}),
    ("erp", "orders", "cancel"): frozenset({A}),
    ("erp", "orders", "deliver"): frozenset({A, W}),
    ("erp", "orders", "release"): frozenset({A, F}),
    ("erp", "shipments", "read"): frozenset({A, SUP, W}),
    ("erp", "shipments", "create"): frozenset({A, W}),
    ("erp", "invoices", "read"): frozenset({A, S, M, F}),
    ("erp", "invoices", "void"): frozenset({A, F}),
    ("erp", "payments", "create"): frozenset({A, F}),
    ("erp", "ledger", "read"): frozenset({A, F}),
    ("erp", "reports", "read"): frozenset({A, F}),
    ("erp", "budgets", "update"): frozenset({A, F}),
    ("erp", "employees", "read"): frozenset({A, H}),
    ("erp", "employees", "terminate"): frozenset({A, H}),
    ("erp", "departments", "create"): frozenset({A, H}),
    ("erp", "dead-letters", "read"): frozenset({A}),
    ("crm", "dead-letters", "replay"): frozenset({A}),
    ("crm", "outbox", "read"): frozenset({A}),
    ("erp", "outbox", "republish"): frozenset({A}),
    ("gateway", "outbox", "republish"): frozenset({A}),
    ("gateway", "users", "create"): frozenset({A}),
    ("gateway", "webhooks", "read"): frozenset({A}),
    ("gateway", "events", "read"): ALL_ROLES,
}


@pytest.mark.parametrize(
    ("route", "expected"),
    EXPECTED.items(),
    # Stable names whatever the hash seed: each worker process collects the same tests.
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else ",".join(sorted(v)),
)
def test_each_route_is_open_to_exactly_the_roles_of_the_design(
    route: tuple[str, str, str], expected: frozenset[Role]
) -> None:
    allowed = {role for role in Role if may([role], *route)}
    assert allowed == expected


def test_sales_reads_all_of_crm_but_changes_only_what_it_owns() -> None:
    assert allowed_scope([S], "crm", "leads", "read") is Scope.ALL
    assert allowed_scope([S], "crm", "leads", "create") is Scope.ALL
    assert allowed_scope([S], "crm", "leads", "update") is Scope.OWN
    assert allowed_scope([S], "crm", "quotes", "accept") is Scope.OWN
    assert allowed_scope([S], "crm", "inquiries", "resolve") is Scope.OWN
    assert allowed_scope([S], "crm", "inquiries", "create") is None
    assert allowed_scope([M], "crm", "quotes", "accept") is Scope.ALL
    # Several roles: the widest scope wins.
    assert allowed_scope([S, M], "crm", "leads", "update") is Scope.ALL


def test_customer_overview_follows_reading_crm_customers() -> None:
    for role in Role:
        assert may([role], "gateway", "customer-overview", "read") == may(
            [role], "crm", "customers", "read"
        ), role


def test_credit_fields_are_for_finance_and_managers_only() -> None:
    values = {"credit_limit": "5000.00", "payment_terms_days": 45}
    assert forbidden_fields([S], "crm", "customers", "update", values) == [
        "credit_limit",
        "payment_terms_days",
    ]
    assert forbidden_fields([F], "crm", "customers", "update", values) == []
    assert forbidden_fields([M], "crm", "customers", "update", values) == []
    # Finance may change those two fields of a customer, nothing else.
    assert forbidden_fields([F], "crm", "customers", "update", {"name": "X"}) == ["name"]
    assert forbidden_fields([S], "crm", "customers", "create", {"credit_limit": "1"}) == [
        "credit_limit"
    ]


def test_employee_pay_role_and_manager_are_for_hr_and_admin() -> None:
    values = {"salary": "1.00", "role": "admin", "manager_id": "x", "title": "Rep"}
    assert forbidden_fields([H], "erp", "employees", "update", values) == []
    assert forbidden_fields([A], "erp", "employees", "update", values) == []
    assert hidden_fields([S], "erp", "employees") == {"salary"}
    assert hidden_fields([H], "erp", "employees") == frozenset()
    assert hidden_fields([A], "erp", "employees") == frozenset()


def test_every_role_has_an_entry() -> None:
    assert set(PERMISSIONS) == set(Role)
