"""Quotes and the customer and rep behind them: a quote of an archived customer is neither
sent nor accepted (even when the archive and the acceptance meet on PostgreSQL), and a rep
may not leave their quote to nobody."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.support.crm import Crm
from tests.support.races import holding, require_postgresql, waiting

pytestmark = pytest.mark.api


@pytest.fixture
async def rep(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    await crm.product("CHAIR", "19.99", "19")
    return crm.headers("sales", sales_rep)


async def post(crm: Crm, path: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await crm.client.post(path, json=body or None, headers=headers)


async def new_customer(crm: Crm, headers: dict[str, str]) -> str:
    response = await post(crm, "/customers", headers, kind="company", name="Acme GmbH")
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_quote(crm: Crm, headers: dict[str, str], customer_id: str) -> str:
    lines = [{"sku": "CHAIR", "quantity": 1}]
    response = await post(crm, "/quotes", headers, customer_id=customer_id, lines=lines)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_quote_of_an_archived_customer_is_neither_sent_nor_accepted(
    crm: Crm, rep: dict[str, str]
) -> None:
    customer_id = await new_customer(crm, rep)
    draft = await new_quote(crm, rep, customer_id)
    sent = await new_quote(crm, rep, customer_id)
    assert (await post(crm, f"/quotes/{sent}/send", rep)).status_code == 200
    assert (await post(crm, f"/customers/{customer_id}/archive", rep)).status_code == 200

    for quote_id, action, allowed in ((draft, "send", []), (sent, "accept", ["reject"])):
        refused = await post(crm, f"/quotes/{quote_id}/{action}", rep)
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert "archived" in problem["detail"]
        assert problem["allowed"] == allowed
    assert (await crm.client.get(f"/quotes/{sent}", headers=rep)).json()["status"] == "sent"
    assert await crm.events("crm.quote.accepted.v1") == []

    # Restored, the customer's quote goes through; rejecting never needed the customer.
    assert (await post(crm, f"/customers/{customer_id}/restore", rep)).status_code == 200
    accepted = await post(crm, f"/quotes/{sent}/accept", rep)
    assert accepted.status_code == 200, accepted.text
    assert [e["data"]["quote_id"] for e in await crm.events("crm.quote.accepted.v1")] == [sent]


async def test_an_acceptance_meeting_an_archive_waits_for_it_and_is_refused(
    crm: Crm, rep: dict[str, str]
) -> None:
    """The archive reaches the customer's row first; the acceptance, which read the
    customer as active before, must not make an order for the customer archived meanwhile."""
    require_postgresql(crm.engine)
    customer_id = await new_customer(crm, rep)
    quote_id = await new_quote(crm, rep, customer_id)
    assert (await post(crm, f"/quotes/{quote_id}/send", rep)).status_code == 200

    async with holding(
        crm.engine, "SELECT id FROM customers WHERE id = :id FOR UPDATE", id=customer_id
    ):
        archive = asyncio.create_task(post(crm, f"/customers/{customer_id}/archive", rep))
        await waiting(crm.engine, 1)
        accept = asyncio.create_task(post(crm, f"/quotes/{quote_id}/accept", rep))
        await waiting(crm.engine, 2)
    archived, accepted = await archive, await accept

    assert archived.status_code == 200, archived.text
    assert accepted.status_code == 409, accepted.text
    assert (await crm.client.get(f"/quotes/{quote_id}", headers=rep)).json()["status"] == "sent"
    assert await crm.events("crm.quote.accepted.v1") == []


async def test_a_rep_may_not_leave_their_quote_to_nobody(
    crm: Crm, rep: dict[str, str], sales_rep: uuid.UUID
) -> None:
    quote_id = await new_quote(crm, rep, await new_customer(crm, rep))

    dropped = await crm.client.patch(f"/quotes/{quote_id}", json={"owner_id": None}, headers=rep)

    assert dropped.status_code == 403, dropped.text
    assert dropped.json()["errors"] == [
        {"field": "owner_id", "message": "not allowed for your role"}
    ]
    kept = await crm.client.get(f"/quotes/{quote_id}", headers=rep)
    assert kept.json()["owner_id"] == str(sales_rep)
    assert kept.json()["version"] == 1
    manager = crm.headers("sales_manager", await crm.hire("sales_manager"))
    unassigned = await crm.client.patch(
        f"/quotes/{quote_id}", json={"owner_id": None}, headers=manager
    )
    assert unassigned.status_code == 200, unassigned.text
    assert unassigned.json()["owner_id"] is None


async def test_two_quotes_of_one_deal_accepted_at_once_both_go_through(
    crm: Crm, rep: dict[str, str]
) -> None:
    """Accepted one after the other, the second quote finds its deal won and leaves it so;
    meeting on PostgreSQL, the second must not fail on the deal's version instead."""
    require_postgresql(crm.engine)
    customer_id = await new_customer(crm, rep)
    deal = await post(
        crm, "/opportunities", rep, name="Chairs", amount="100.00", customer_id=customer_id
    )
    quotes = []
    for _ in range(2):
        lines = [{"sku": "CHAIR", "quantity": 1}]
        body = {"customer_id": customer_id, "opportunity_id": deal.json()["id"], "lines": lines}
        quote = await crm.client.post("/quotes", json=body, headers=rep)
        assert (await post(crm, f"/quotes/{quote.json()['id']}/send", rep)).status_code == 200
        quotes.append(quote.json()["id"])

    locked = "SELECT id FROM opportunities WHERE id = :id FOR UPDATE"
    async with holding(crm.engine, locked, id=deal.json()["id"]):
        first = asyncio.create_task(post(crm, f"/quotes/{quotes[0]}/accept", rep))
        await waiting(crm.engine, 1)
        second = asyncio.create_task(post(crm, f"/quotes/{quotes[1]}/accept", rep))
        await waiting(crm.engine, 2)
    accepted = [await first, await second]

    assert [r.status_code for r in accepted] == [200, 200], [r.text for r in accepted]
    won = await crm.events("crm.opportunity.won.v1")
    assert [e["data"]["quote_id"] for e in won] == [quotes[0]]
