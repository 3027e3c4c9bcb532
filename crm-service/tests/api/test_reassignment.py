"""When an employee leaves, each open record they hold goes to their manager if the manager
may hold that kind of record, else to nobody; closed records stay; each move is noted
(design.md §5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update

from crm.adapters.pipeline import Lead
from crm.adapters.service_desk import Inquiry
from crm.config import Settings
from crm.service.reassignment import reassign_leftovers
from shared_schemas.database import session_factory
from tests.support.crm import Crm

pytestmark = pytest.mark.api


class Book:
    """The records one sales rep holds, open and closed, made through the API."""

    def __init__(self, crm: Crm, rep: uuid.UUID) -> None:
        self.crm = crm
        self.rep = rep
        self.headers = crm.headers("sales", rep)
        self.ids: dict[str, str] = {}

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.crm.client.post(path, json=body, headers=self.headers)
        assert response.is_success, f"{path}: {response.text}"
        return dict(response.json())

    async def fill(self) -> None:
        await self.crm.product("SKU-1", "100.00")
        customer = await self.post("/customers", {"kind": "company", "name": "Held Co"})
        self.ids["customer"] = customer["id"]
        self.ids["open_lead"] = (await self.post("/leads", {"name": "Open Lead"}))["id"]
        closed_lead = await self.post("/leads", {"name": "Closed Lead"})
        await self.post(f"/leads/{closed_lead['id']}/disqualify", {"reason": "no budget"})
        self.ids["closed_lead"] = closed_lead["id"]
        deal = {"name": "Deal", "customer_id": customer["id"], "amount": "1000.00"}
        self.ids["open_opportunity"] = (await self.post("/opportunities", deal))["id"]
        won = await self.post("/opportunities", {**deal, "name": "Won deal"})
        await self.post(f"/opportunities/{won['id']}/win")
        self.ids["won_opportunity"] = won["id"]
        quote = {"customer_id": customer["id"], "lines": [{"sku": "SKU-1", "quantity": 1}]}
        self.ids["draft_quote"] = (await self.post("/quotes", quote))["id"]
        sent = await self.post("/quotes", quote)
        await self.post(f"/quotes/{sent['id']}/send")
        await self.post(f"/quotes/{sent['id']}/reject", {"reason": "too expensive"})
        self.ids["rejected_quote"] = sent["id"]
        # Support opens the case and assigns it to the rep (sales may hold inquiries).
        inquiry = {
            "channel": "email",
            "subject": "Where is it?",
            "customer_id": customer["id"],
            "assignee_id": str(self.rep),
        }
        support = self.crm.headers("support", await self.crm.hire("support"))
        opened = await self.crm.client.post("/inquiries", json=inquiry, headers=support)
        assert opened.status_code == 201, opened.text
        self.ids["open_inquiry"] = opened.json()["id"]

    async def holder(self, key: str) -> str | None:
        path, field = {
            "customer": ("/customers", "owner_id"),
            "open_lead": ("/leads", "owner_id"),
            "closed_lead": ("/leads", "owner_id"),
            "open_opportunity": ("/opportunities", "owner_id"),
            "won_opportunity": ("/opportunities", "owner_id"),
            "draft_quote": ("/quotes", "owner_id"),
            "rejected_quote": ("/quotes", "owner_id"),
            "open_inquiry": ("/inquiries", "assignee_id"),
        }[key]
        response = await self.crm.client.get(
            f"{path}/{self.ids[key]}", headers=self.crm.headers("admin")
        )
        value = response.json()[field]
        return str(value) if value else None


OPEN = ("customer", "open_lead", "open_opportunity", "draft_quote", "open_inquiry")
CLOSED = ("closed_lead", "won_opportunity", "rejected_quote")


async def notes(crm: Crm, customer_id: str) -> list[str]:
    response = await crm.client.get(
        f"/activities?customer_id={customer_id}&kind=note", headers=crm.headers("admin")
    )
    return [item["subject"] for item in response.json()["items"]]


async def test_open_records_go_to_an_eligible_manager_and_closed_ones_stay(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    leaver = await crm.hire("sales", manager_id=manager, name="Lea Leaver")
    book = Book(crm, leaver)
    await book.fill()
    for key in (*OPEN, *CLOSED):
        assert await book.holder(key) == str(leaver), key

    await crm.terminate(leaver, manager_id=manager)

    for key in OPEN:
        assert await book.holder(key) == str(manager), key
    for key in CLOSED:
        assert await book.holder(key) == str(leaver), f"{key} is closed and must stay"
    recorded = await notes(crm, book.ids["customer"])
    # The customer's move and those of its opportunity, quote and inquiry are noted on it.
    assert sorted(note.split()[0] for note in recorded) == [
        "Customer",
        "Inquiry",
        "Opportunity",
        "Quote",
    ]
    assert all("to their manager" in note for note in recorded)
    lead_notes = await crm.client.get(
        f"/activities?lead_id={book.ids['open_lead']}", headers=crm.headers("admin")
    )
    assert [a["subject"].split()[0] for a in lead_notes.json()["items"]] == ["Lead"]
    [change] = [
        e
        for e in await crm.events("crm.customer.updated.v1")
        if e["subject"] == book.ids["customer"]
    ]
    assert change["data"]["changes"] == [
        {"field": "owner_id", "before": str(leaver), "after": str(manager)}
    ]
    assert change["actor"] == "crm-service"


async def test_each_field_goes_to_the_manager_only_if_eligible_for_it(crm: Crm) -> None:
    # A support lead as manager may take over inquiries, but not sales records.
    support_lead = await crm.hire("support")
    leaver = await crm.hire("sales", manager_id=support_lead)
    book = Book(crm, leaver)
    await book.fill()

    await crm.terminate(leaver, manager_id=support_lead)

    for key in ("customer", "open_lead", "open_opportunity", "draft_quote"):
        assert await book.holder(key) is None, f"{key}: a support manager may not own it"
    assert await book.holder("open_inquiry") == str(support_lead)
    for key in CLOSED:
        assert await book.holder(key) == str(leaver), f"{key} is closed and must stay"
    recorded = {note.split()[0]: note for note in await notes(crm, book.ids["customer"])}
    assert sorted(recorded) == ["Customer", "Inquiry", "Opportunity", "Quote"]
    assert "to their manager" in recorded.pop("Inquiry")
    assert all("to nobody" in note for note in recorded.values()), recorded


async def test_without_a_manager_everything_open_is_unassigned_once(crm: Crm) -> None:
    leaver = await crm.hire("sales")
    book = Book(crm, leaver)
    await book.fill()
    await crm.terminate(leaver, manager_id=None)
    for key in OPEN:
        assert await book.holder(key) is None, key
    before = await notes(crm, book.ids["customer"])
    # The same termination delivered again changes and records nothing more.
    crm.versions[leaver] -= 1
    await crm.terminate(leaver, manager_id=None)
    assert await notes(crm, book.ids["customer"]) == before


async def test_a_terminated_manager_is_not_an_heir(crm: Crm) -> None:
    manager = await crm.hire("sales_manager")
    leaver = await crm.hire("sales", manager_id=manager)
    book = Book(crm, leaver)
    await book.fill()
    await crm.terminate(manager, manager_id=None)
    await crm.terminate(leaver, manager_id=manager)
    for key in OPEN:
        assert await book.holder(key) is None, key
    for key in CLOSED:
        assert await book.holder(key) == str(leaver), key


async def test_a_record_committed_just_after_its_owner_left_is_swept_to_the_manager(
    crm: Crm, crm_settings: Settings
) -> None:
    """A lead created for a rep whose termination commits while the creation is in flight:
    the creation found the rep active, the termination's search found no lead yet. The
    sweep hands it on as the termination would have, and leaves everything else alone."""
    manager = await crm.hire("sales_manager")
    leaver = await crm.hire("sales", manager_id=manager, name="Lea Leaver")
    book = Book(crm, leaver)
    await book.fill()
    await crm.terminate(leaver, manager_id=manager)
    sessions = session_factory(crm.engine)
    assert await reassign_leftovers(sessions, crm_settings) == [], "nothing left over yet"
    # The state that interleaving leaves (no request can be made to land in it on cue).
    async with crm.engine.begin() as connection:
        for table, holder, key in (
            (Lead, Lead.owner_id, "open_lead"),
            (Inquiry, Inquiry.assignee_id, "open_inquiry"),
        ):
            await connection.execute(
                update(table)
                .where(table.id == uuid.UUID(book.ids[key]))
                .values({holder.key: leaver})
            )
    assert await book.holder("open_lead") == str(leaver)

    swept = await reassign_leftovers(sessions, crm_settings)

    assert sorted((moved.kind, moved.to) for moved in swept) == [
        ("inquiry", manager),
        ("lead", manager),
    ]
    for key in OPEN:
        assert await book.holder(key) == str(manager), key
    for key in CLOSED:
        assert await book.holder(key) == str(leaver), f"{key} is closed and must stay"
    lead_notes = await crm.client.get(
        f"/activities?lead_id={book.ids['open_lead']}", headers=crm.headers("admin")
    )
    assert [a["subject"].split()[0] for a in lead_notes.json()["items"]] == ["Lead", "Lead"]
    assert await reassign_leftovers(sessions, crm_settings) == []
