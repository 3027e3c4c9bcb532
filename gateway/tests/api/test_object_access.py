"""Object and property level through the gateway (OWASP API1 and API3): a sales rep reads
every lead, opportunity and quote but changes only their own, through the gateway and
straight at the service; an employee's salary is seen by hr and admin only."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.through_gateway import Services, as_, gateway_to, services

pytestmark = pytest.mark.api


async def created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def records_of(live: Services, owner: uuid.UUID) -> dict[str, dict[str, Any]]:
    """A lead, an opportunity and a draft quote owned by `owner`, made through CRM."""
    crm, rep = live.crm.client, as_("sales", owner)
    customer = await created(
        crm,
        "/customers",
        {"kind": "company", "name": f"Customer of {owner.hex[:6]}", "owner_id": str(owner)},
        rep,
    )
    await live.crm.product("DESK", "250.00")
    return {
        "leads": await created(
            crm, "/leads", {"name": "Jana Novak", "company_name": "Novak Ltd"}, rep
        ),
        "opportunities": await created(
            crm,
            "/opportunities",
            {
                "name": "Desks for Novak",
                "customer_id": customer["id"],
                "amount": "5000.00",
                "currency": "EUR",
            },
            rep,
        ),
        "quotes": await created(
            crm,
            "/quotes",
            {"customer_id": customer["id"], "lines": [{"sku": "DESK", "quantity": 2}]},
            rep,
        ),
    }


async def test_a_rep_cannot_change_another_reps_lead_opportunity_or_quote(tmp_path: Path) -> None:
    async with services(tmp_path) as live:
        owner, other = await live.crm.hire("sales"), await live.crm.hire("sales")
        records = await records_of(live, owner)
        changes = {
            "leads": ("PATCH", "", {"phone": "+49 30 1"}),
            "opportunities": ("POST", "/stage", {"stage": "qualification"}),
            "quotes": ("POST", "/send", None),
        }
        async with gateway_to(tmp_path, live.crm_url, live.erp_url) as gateway:
            for kind, record in records.items():
                method, action, body = changes[kind]
                for client, prefix in ((gateway, "/api/crm"), (live.crm.client, "")):
                    url = f"{prefix}/{kind}/{record['id']}"
                    seen = await client.get(url, headers=as_("sales", other))
                    assert seen.status_code == 200, (kind, seen.text)
                    refused = await client.request(
                        method, url + action, json=body, headers=as_("sales", other)
                    )
                    assert refused.status_code == 403, (kind, prefix, refused.text)
                    assert refused.headers["content-type"] == "application/problem+json"
                    after = await client.get(url, headers=as_("sales", owner))
                    assert after.json()["version"] == record["version"], kind
                # The owner may.
                done = await gateway.request(
                    method,
                    f"/api/crm/{kind}/{record['id']}{action}",
                    json=body,
                    headers=as_("sales", owner),
                )
                assert done.status_code == 200, (kind, done.text)


async def test_salary_is_seen_through_the_gateway_by_hr_and_admin_only(tmp_path: Path) -> None:
    async with (
        services(tmp_path) as live,
        gateway_to(tmp_path, live.crm_url, live.erp_url) as gateway,
    ):
        hired = await gateway.post(
            "/api/erp/employees",
            json={
                "name": "Ada Lovelace",
                "email": "ada@company.example",
                "role": "sales",
                "salary": "64000.00",
            },
            headers=as_("hr"),
        )
        assert hired.status_code == 201, hired.text
        employee = hired.json()
        assert employee["salary"] == "64000.00"
        for role in ("hr", "admin"):
            one = await gateway.get(f"/api/erp/employees/{employee['id']}", headers=as_(role))
            listed = await gateway.get("/api/erp/employees", headers=as_(role))
            assert one.json()["salary"] == "64000.00", role
            assert [e["salary"] for e in listed.json()["items"]] == ["64000.00"], role
        for role in ("sales", "sales_manager", "support", "warehouse", "finance"):
            for path in (f"/api/erp/employees/{employee['id']}", "/api/erp/employees"):
                refused = await gateway.get(path, headers=as_(role))
                assert refused.status_code == 403, (role, path)
                assert "64000" not in refused.text
        [hired_event] = await live.erp.events("erp.employee.hired.v1")
        assert "salary" not in hired_event["data"]
        assert "64000" not in json.dumps(hired_event)
