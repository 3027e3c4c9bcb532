"""Which role reads which events: the resource of each event type, and what the permission
table lets each role read of it."""

from __future__ import annotations

import pytest

from shared_schemas.events.catalogue import TOPIC_NAMES
from shared_schemas.events.readers import (
    TOPIC_RESOURCES,
    TYPE_RESOURCES,
    event_resource,
    may_read_event,
    readable_event_types,
)
from shared_schemas.events.registry import EVENT_TYPES, event_types_of
from shared_schemas.permissions import may
from shared_schemas.roles import Role

pytestmark = [pytest.mark.unit, pytest.mark.security]


def of(*topics: str) -> frozenset[str]:
    return frozenset(name for topic in topics for name in event_types_of(topic))


INVOICES_WITHOUT_PAYMENTS = of("erp.invoice") - {"erp.payment.received.v1"}
CRM = of("crm.customer", "crm.lead", "crm.opportunity", "crm.quote", "crm.inquiry")

EXPECTED: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(EVENT_TYPES),
    Role.SALES: CRM | of("erp.product", "erp.order", "erp.stock") | INVOICES_WITHOUT_PAYMENTS,
    Role.SALES_MANAGER: CRM
    | of("erp.product", "erp.order", "erp.stock")
    | INVOICES_WITHOUT_PAYMENTS,
    Role.SUPPORT: of("crm.customer", "crm.quote", "crm.inquiry", "erp.product", "erp.order"),
    Role.WAREHOUSE: of("erp.product", "erp.order", "erp.stock"),
    Role.FINANCE: of("crm.customer", "erp.product", "erp.order", "erp.invoice"),
    Role.HR: of("erp.employee"),
}


def test_every_topic_and_event_type_has_a_resource() -> None:
    assert set(TOPIC_RESOURCES) == TOPIC_NAMES
    assert set(TYPE_RESOURCES) <= set(EVENT_TYPES)
    for name in EVENT_TYPES:
        service, _ = event_resource(name)
        assert name.startswith(f"{service}."), name


def test_every_resource_is_one_the_permission_table_grants_to_someone_besides_admin() -> None:
    for service, resource in {*TOPIC_RESOURCES.values(), *TYPE_RESOURCES.values()}:
        readers = [role for role in Role if role is not Role.ADMIN]
        assert any(may([role], service, resource, "read") for role in readers), resource


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_the_events_of_what_it_may_read(role: Role) -> None:
    assert readable_event_types([role]) == EXPECTED[role]


def test_warehouse_never_sees_crm_events_and_hr_only_employees() -> None:
    assert not any(name.startswith("crm.") for name in readable_event_types([Role.WAREHOUSE]))
    assert readable_event_types([Role.HR]) == of("erp.employee")
    assert not may_read_event([Role.SALES], "erp.employee.hired.v1")


def test_several_roles_read_the_union() -> None:
    both = readable_event_types([Role.WAREHOUSE, Role.HR])
    assert both == EXPECTED[Role.WAREHOUSE] | EXPECTED[Role.HR]


def test_an_unknown_event_type_has_no_resource() -> None:
    with pytest.raises(KeyError, match=r"crm\.unknown\.happened\.v1"):
        event_resource("crm.unknown.happened.v1")
