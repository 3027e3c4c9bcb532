"""An archived customer's opportunities and quotes stay read-only until it is restored, as
its own record and its contacts do: changes and moves are 409 naming `restore`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def _created(crm: Crm, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await crm.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_archived_customers_deals_and_drafts_wait_for_its_restore(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    rep = crm.headers("sales", sales_rep)
    await crm.product("CHAIR", "19.99", "19")
    customer = await _created(crm, "/customers", {"kind": "company", "name": "Gone"}, rep)
    deal = await _created(
        crm, "/opportunities", {"name": "Chairs", "customer_id": customer["id"], "amount": 9}, rep
    )
    draft = await _created(
        crm,
        "/quotes",
        {"customer_id": customer["id"], "lines": [{"sku": "CHAIR", "quantity": 1}]},
        rep,
    )
    archived = await crm.client.post(f"/customers/{customer['id']}/archive", headers=rep)
    assert archived.status_code == 200, archived.text
    before = len(await crm.events())

    deal_url, draft_url = f"/opportunities/{deal['id']}", f"/quotes/{draft['id']}"
    refused = [
        await crm.client.patch(deal_url, json={"name": "More chairs"}, headers=rep),
        await crm.client.post(f"{deal_url}/stage", json={"stage": "proposal"}, headers=rep),
        await crm.client.post(f"{deal_url}/win", headers=rep),
        await crm.client.post(f"{deal_url}/lose", json={"reason": "gone"}, headers=rep),
        await crm.client.patch(draft_url, json={"notes": "later"}, headers=rep),
    ]
    for response in refused:
        assert response.status_code == 409, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["allowed"] == ["restore"]
        assert response.json()["customer_status"] == "archived"
    assert (await crm.client.get(deal_url, headers=rep)).json() == deal
    assert (await crm.client.get(draft_url, headers=rep)).json() == draft
    assert len(await crm.events()) == before

    restored = await crm.client.post(f"/customers/{customer['id']}/restore", headers=rep)
    assert restored.status_code == 200, restored.text
    moved = await crm.client.post(f"{deal_url}/stage", json={"stage": "proposal"}, headers=rep)
    assert moved.status_code == 200, moved.text
    edited = await crm.client.patch(draft_url, json={"notes": "later"}, headers=rep)
    assert edited.status_code == 200, edited.text
