"""Object level (OWASP API1, design §7): a sales rep reads every CRM record but changes,
moves or removes only their own; each write route on another rep's customer, contact,
lead, opportunity or activity is a 403 straight at the service, and changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.launcher import sign_in
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS
from tests.security.conftest import RunningApis

pytestmark = pytest.mark.security


async def _employees_known_to_crm(database_url: str, *roles: str) -> None:
    """The development employees of `roles` in CRM's replica, as its consumer would have
    them from ERP: active, so they may own records."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            for role in roles:
                await connection.execute(
                    text(
                        "INSERT INTO employees (id, name, role, status, version, updated_at)"
                        " VALUES (:id, :name, :role, 'active', 1, :now)"
                        " ON CONFLICT (id) DO NOTHING"
                    ),
                    {
                        "id": uuid.UUID(DEVELOPMENT_EMPLOYEE_IDS[role]),
                        "name": f"Development {role}",
                        "role": role,
                        "now": datetime.now(UTC),
                    },
                )
    finally:
        await engine.dispose()


async def test_a_sales_rep_changes_no_record_of_another_rep(running_apis: RunningApis) -> None:
    await _employees_known_to_crm(running_apis.database_urls["crm"], "sales", "sales_manager")
    async with httpx.AsyncClient(base_url=running_apis.urls["gateway"], timeout=10.0) as gateway:
        tokens = {
            role: await sign_in(gateway, role, f"dev-{role}") for role in ("sales", "sales_manager")
        }
    async with httpx.AsyncClient(base_url=running_apis.urls["crm"], timeout=10.0) as crm:
        owner = {"Authorization": f"Bearer {tokens['sales_manager']}"}
        rep = {"Authorization": f"Bearer {tokens['sales']}"}

        async def made(path: str, body: dict[str, object]) -> str:
            response = await crm.post(path, json=body, headers=owner)
            assert response.status_code == 201, response.text
            assert (
                response.json().get("owner_id", DEVELOPMENT_EMPLOYEE_IDS["sales_manager"])
                == (DEVELOPMENT_EMPLOYEE_IDS["sales_manager"])
            )
            return str(response.json()["id"])

        customer = await made(
            "/customers", {"name": f"Managed Co {uuid.uuid4().hex[:8]}", "kind": "company"}
        )
        contact = await made(f"/customers/{customer}/contacts", {"name": "Ada Buyer"})
        lead = await made("/leads", {"name": "Managed Lead"})
        opportunity = await made(
            "/opportunities", {"name": "Managed deal", "customer_id": customer, "amount": "10.00"}
        )
        activity = await made(
            "/activities", {"kind": "call", "subject": "Called", "customer_id": customer}
        )

        writes: list[tuple[str, str, dict[str, object] | None]] = [
            ("PATCH", f"/customers/{customer}", {"name": "Taken"}),
            ("POST", f"/customers/{customer}/archive", None),
            ("POST", f"/customers/{customer}/contacts", {"name": "Eve"}),
            ("PATCH", f"/customers/{customer}/contacts/{contact}", {"name": "Eve"}),
            ("DELETE", f"/customers/{customer}/contacts/{contact}", None),
            ("PATCH", f"/leads/{lead}", {"name": "Taken"}),
            ("POST", f"/leads/{lead}/contact", None),
            ("POST", f"/leads/{lead}/qualify", None),
            ("POST", f"/leads/{lead}/disqualify", {"reason": "Taken"}),
            ("POST", f"/leads/{lead}/convert", {"customer_id": customer}),
            ("PATCH", f"/opportunities/{opportunity}", {"amount": "1.00"}),
            ("POST", f"/opportunities/{opportunity}/stage", {"stage": "proposal"}),
            ("POST", f"/opportunities/{opportunity}/win", {}),
            ("POST", f"/opportunities/{opportunity}/lose", {"reason": "Taken"}),
            ("PATCH", f"/activities/{activity}", {"subject": "Taken"}),
            ("DELETE", f"/activities/{activity}", None),
            # Taking another rep's record for themselves is a change of it too.
            ("PATCH", f"/customers/{customer}", {"owner_id": DEVELOPMENT_EMPLOYEE_IDS["sales"]}),
        ]
        before = {
            path: (await crm.get(path, headers=rep)).json()
            for path in (
                f"/customers/{customer}",
                f"/customers/{customer}/contacts/{contact}",
                f"/leads/{lead}",
                f"/opportunities/{opportunity}",
                f"/activities/{activity}",
            )
        }
        for method, path, body in writes:
            response = await crm.request(method, path, json=body, headers=rep)
            assert response.status_code == 403, f"{method} {path}: {response.text}"
            assert response.headers["content-type"].startswith("application/problem+json")
        for path, seen in before.items():
            assert (await crm.get(path, headers=rep)).json() == seen, path

        # The refusals are about whose record it is: the rep's own customer takes a contact.
        mine = await crm.post(
            "/customers",
            json={"name": f"Rep Co {uuid.uuid4().hex[:8]}", "kind": "company"},
            headers=rep,
        )
        assert mine.json()["owner_id"] == DEVELOPMENT_EMPLOYEE_IDS["sales"], mine.text
        added = await crm.post(
            f"/customers/{mine.json()['id']}/contacts", json={"name": "Own"}, headers=rep
        )
        assert added.status_code == 201, added.text
