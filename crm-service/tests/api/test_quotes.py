"""Quotes through the HTTP API, on SQLite and PostgreSQL: pricing, life cycle, events,
the expiry sweep and who may do what."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crm.config import Settings
from crm.service.quote_expiry import expire_overdue_quotes, periodic_jobs
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.database import session_factory
from tests.support.crm import Crm

pytestmark = pytest.mark.api

ADDRESS = {"street": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def today() -> date:
    return datetime.now(UTC).date()  # the company time zone is UTC in these tests


async def new_customer(crm: Crm, headers: dict[str, str], name: str = "Acme GmbH") -> str:
    response = await crm.client.post(
        "/customers", json={"kind": "company", "name": name}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def create_quote(
    crm: Crm,
    headers: dict[str, str],
    customer_id: str,
    lines: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> httpx.Response:
    if lines is None:
        lines = [{"sku": "CHAIR", "quantity": 1}]
    body = {"customer_id": customer_id, "lines": lines}
    return await crm.client.post("/quotes", json={**body, **fields}, headers=headers)


async def new_quote(
    crm: Crm, headers: dict[str, str], customer_id: str, **fields: Any
) -> dict[str, Any]:
    response = await create_quote(crm, headers, customer_id, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def move(
    crm: Crm, quote_id: str, action: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await crm.client.post(f"/quotes/{quote_id}/{action}", json=body or None, headers=headers)


@pytest.fixture
async def rep(crm: Crm, sales_rep: uuid.UUID) -> dict[str, str]:
    """The sales rep's headers, with the products the tests quote."""
    await crm.product("CHAIR", "19.99", "19")
    await crm.product("DESK", "250.00", "7")
    await crm.product("OLD", "5.00", "19", active=False)
    return crm.headers("sales", sales_rep)


@pytest.fixture
async def customer_id(crm: Crm, rep: dict[str, str]) -> str:
    return await new_customer(crm, rep)


async def test_a_draft_is_priced_from_the_product_replica(
    crm: Crm, rep: dict[str, str], customer_id: str, sales_rep: uuid.UUID
) -> None:
    response = await create_quote(
        crm, rep, customer_id, [{"sku": "CHAIR", "quantity": 3, "discount_pct": "10"}]
    )
    assert response.status_code == 201, response.text
    quote = response.json()
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/quotes/{quote['id']}"
    assert quote["number"] == f"Q-{today().year}-000001"
    assert quote["status"] == "draft"
    assert quote["currency"] == "EUR"
    assert quote["owner_id"] == str(sales_rep)
    assert quote["valid_until"] == (today() + timedelta(days=30)).isoformat()
    [line] = quote["lines"]
    assert line["name"] == "Product CHAIR"
    assert line["product_id"] is not None
    assert (line["unit_price"], line["tax_rate"], line["discount_pct"]) == ("19.99", "19", "10")
    assert (line["line_net"], line["line_tax"]) == ("53.97", "10.25")
    totals = [quote[k] for k in ("subtotal", "discount_total", "tax_total", "total")]
    assert totals == ["59.97", "6.00", "10.25", "64.22"]
    assert [quote[k] for k in ("order_id", "order_number", "order_status")] == [None] * 3
    fetched = await crm.client.get(f"/quotes/{quote['id']}", headers=crm.headers("support"))
    assert fetched.json() == quote
    # A draft is the sales rep's own business: nothing is published until it is sent.
    assert [e for e in await crm.events() if e["type"].startswith("crm.quote.")] == []


@pytest.mark.parametrize(
    ("line", "net", "tax"),
    [
        (
            {"sku": "CHAIR", "quantity": 1, "unit_price": "0.25", "discount_pct": "50"},
            "0.13",
            "0.02",
        ),
        ({"sku": "CHAIR", "quantity": 1, "unit_price": "0.50", "tax_rate": "5"}, "0.50", "0.03"),
        ({"sku": "DESK", "quantity": 2, "discount_pct": "12.5", "tax_rate": "0"}, "437.50", "0.00"),
    ],
)
async def test_lines_round_half_up_and_explicit_values_override_the_replica(
    crm: Crm, rep: dict[str, str], customer_id: str, line: dict[str, Any], net: str, tax: str
) -> None:
    quote = await new_quote(crm, rep, customer_id, lines=[line])
    [priced] = quote["lines"]
    assert (priced["line_net"], priced["line_tax"]) == (net, tax)
    assert quote["total"] == str(Decimal(net) + Decimal(tax))


async def test_fractional_rates_read_the_same_in_every_answer(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    # A rate given ("12.5") or taken from the product ("7.5") is written as the API's
    # examples write it, by the creation, a read, the list and a change alike.
    await crm.product("LAMP", "40.00", "7.5")
    quote = await new_quote(
        crm, rep, customer_id, lines=[{"sku": "LAMP", "quantity": 1, "discount_pct": "12.5"}]
    )
    assert [(line["discount_pct"], line["tax_rate"]) for line in quote["lines"]] == [
        ("12.5", "7.5")
    ]
    fetched = await crm.client.get(f"/quotes/{quote['id']}", headers=rep)
    assert fetched.json() == quote
    listed = await crm.client.get("/quotes", headers=rep)
    assert listed.json()["items"] == [quote]
    changed = await crm.client.patch(f"/quotes/{quote['id']}", json={"notes": "n"}, headers=rep)
    assert changed.status_code == 200, changed.text
    assert changed.json()["lines"] == quote["lines"]


async def test_numbers_are_sequential_and_a_refused_quote_takes_none(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    first = await new_quote(crm, rep, customer_id)
    refused = await create_quote(crm, rep, customer_id, [{"sku": "NOPE", "quantity": 1}])
    assert refused.status_code == 422
    listed = (await crm.client.get("/quotes", headers=rep)).json()["items"]
    assert [quote["id"] for quote in listed] == [first["id"]]
    second = await new_quote(crm, rep, customer_id)
    year = today().year
    assert [first["number"], second["number"]] == [f"Q-{year}-000001", f"Q-{year}-000002"]


async def test_unknown_and_inactive_skus_are_422_naming_the_line(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    lines = [
        {"sku": "CHAIR", "quantity": 1},
        {"sku": "NOPE", "quantity": 1},
        {"sku": "DESK", "quantity": 1},
        {"sku": "OLD", "quantity": 1},
    ]
    response = await create_quote(crm, rep, customer_id, lines)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["lines.1.sku", "lines.3.sku"]
    listed = await crm.client.get("/quotes", headers=rep)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"currency": "USD"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "CHAIR", "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "CHAIR", "quantity": 1.5}]}, "lines.0.quantity"),
        (
            {"lines": [{"sku": "CHAIR", "quantity": 1, "discount_pct": "101"}]},
            "lines.0.discount_pct",
        ),
        ({"lines": [{"sku": "CHAIR", "quantity": 1, "unit_price": "1.001"}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "CHAIR", "quantity": 1, "tax_rate": "-1"}]}, "lines.0.tax_rate"),
        ({"lines": [{"sku": "CHAIR", "quantity": 1}] * 201}, "lines"),
        ({"status": "sent"}, "status"),
        ({"customer_id": str(uuid.uuid4())}, "customer_id"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    crm: Crm, rep: dict[str, str], customer_id: str, fields: dict[str, Any], field: str
) -> None:
    fields = {"customer_id": customer_id, **fields}
    response = await create_quote(crm, rep, **fields)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (await crm.client.get("/quotes", headers=rep)).json()["items"] == []


async def test_the_company_currency_may_be_named_and_today_is_a_valid_last_day(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    quote = await new_quote(crm, rep, customer_id, currency="EUR", valid_until=today().isoformat())
    assert quote["valid_until"] == today().isoformat()


async def test_an_archived_customer_gets_no_quotes(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    archived = await crm.client.post(f"/customers/{customer_id}/archive", headers=rep)
    assert archived.status_code == 200, archived.text
    response = await create_quote(crm, rep, customer_id)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "customer_id"
    assert (await crm.client.get("/quotes", headers=rep)).json()["items"] == []


async def test_a_draft_can_be_edited_and_lines_are_replaced(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    url = f"/quotes/{quote['id']}"
    changed = await crm.client.patch(
        url,
        json={"lines": [{"sku": "DESK", "quantity": 2}], "notes": "Two desks"},
        headers={**rep, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    edited = changed.json()
    assert [line["sku"] for line in edited["lines"]] == ["DESK"]
    assert (edited["subtotal"], edited["tax_total"], edited["total"]) == (
        "500.00",
        "35.00",
        "535.00",
    )
    assert edited["notes"] == "Two desks"
    notes_only = await crm.client.patch(url, json={"notes": None}, headers=rep)
    assert notes_only.json()["lines"] == edited["lines"]
    assert notes_only.json()["version"] == 3
    bad_line = await crm.client.patch(
        url, json={"lines": [{"sku": "OLD", "quantity": 1}]}, headers=rep
    )
    assert bad_line.status_code == 422
    assert bad_line.json()["errors"][0]["field"] == "lines.0.sku"
    past = await crm.client.patch(url, json={"valid_until": "2020-01-01"}, headers=rep)
    assert past.status_code == 422
    assert (await crm.client.get(url, headers=rep)).json() == notes_only.json()


async def test_a_stale_if_match_is_412_and_changes_nothing(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    url = f"/quotes/{quote['id']}"
    assert (await crm.client.patch(url, json={"notes": "a"}, headers=rep)).status_code == 200
    stale = await crm.client.patch(url, json={"notes": "b"}, headers={**rep, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    stale_send = await move(crm, quote["id"], "send", {**rep, "If-Match": '"1"'})
    assert stale_send.status_code == 412
    current = (await crm.client.get(url, headers=rep)).json()
    assert (current["notes"], current["status"]) == ("a", "draft")


async def test_send_then_accept_publishes_each_step(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    sent = await move(crm, quote["id"], "send", {**rep, "If-Match": '"1"'})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.headers["etag"]) == ("sent", '"2"')
    assert sent.json()["sent_at"] is not None
    refused_edit = await crm.client.patch(
        f"/quotes/{quote['id']}", json={"notes": "x"}, headers=rep
    )
    assert refused_edit.status_code == 409
    assert refused_edit.json()["current_status"] == "sent"
    assert refused_edit.json()["allowed"] == ["accept", "reject"]
    accepted = await move(crm, quote["id"], "accept", rep)
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["decided_at"] is not None
    [sent_event] = await crm.events("crm.quote.sent.v1")
    assert sent_event["subject"] == quote["id"]
    assert sent_event["data"]["version"] == 2
    assert sent_event["data"]["total"] == quote["total"]
    [accepted_event] = await crm.events("crm.quote.accepted.v1")
    assert accepted_event["data"]["version"] == 3


async def test_reject_keeps_the_reason_and_publishes_it(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    await move(crm, quote["id"], "send", rep)
    rejected = await move(crm, quote["id"], "reject", rep, reason="Too expensive")
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        "rejected",
        "Too expensive",
    )
    [event] = await crm.events("crm.quote.rejected.v1")
    assert event["data"]["reason"] == "Too expensive"
    other = await new_quote(crm, rep, customer_id)
    await move(crm, other["id"], "send", rep)
    without_reason = await move(crm, other["id"], "reject", rep)
    assert without_reason.json()["rejection_reason"] is None


@pytest.mark.parametrize(
    ("path", "action", "status", "allowed"),
    [
        ([], "accept", "draft", ["send"]),
        ([], "reject", "draft", ["send"]),
        (["send"], "send", "sent", ["accept", "reject"]),
        (["send", "accept"], "send", "accepted", []),
        (["send", "accept"], "accept", "accepted", []),
        (["send", "accept"], "reject", "accepted", []),
        (["send", "reject"], "send", "rejected", []),
        (["send", "reject"], "accept", "rejected", []),
        (["send", "reject"], "reject", "rejected", []),
    ],
)
async def test_illegal_transitions_are_409_naming_status_and_allowed_actions(
    crm: Crm,
    rep: dict[str, str],
    customer_id: str,
    path: list[str],
    action: str,
    status: str,
    allowed: list[str],
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    for step in path:
        assert (await move(crm, quote["id"], step, rep)).status_code == 200
    events_before = await crm.events()
    refused = await move(crm, quote["id"], action, rep)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["current_status"], refused.json()["allowed"]) == (status, allowed)
    current = (await crm.client.get(f"/quotes/{quote['id']}", headers=rep)).json()
    assert current["status"] == status
    assert current["version"] == 1 + len(path)
    assert await crm.events() == events_before


async def test_the_accepted_event_carries_lines_totals_and_the_customer_snapshot(
    crm: Crm, rep: dict[str, str], sales_rep: uuid.UUID
) -> None:
    manager = crm.headers("sales_manager", await crm.hire("sales_manager"))
    created = await crm.client.post(
        "/customers",
        json={
            "kind": "company",
            "name": "Snapshot AG",
            "email": "buy@snapshot.example",
            "billing_address": ADDRESS,
            "shipping_address": {**ADDRESS, "city": "Potsdam"},
            "credit_limit": "5000.00",
            "payment_terms_days": 14,
        },
        headers=manager,
    )
    customer = created.json()
    lines = [
        {"sku": "CHAIR", "quantity": 3, "discount_pct": "10"},
        {"sku": "DESK", "quantity": 1, "unit_price": "199.00"},
    ]
    quote = await new_quote(crm, rep, customer["id"], lines=lines, notes="Spring offer")
    await move(crm, quote["id"], "send", rep)
    accepted = await move(crm, quote["id"], "accept", rep)
    assert accepted.status_code == 200, accepted.text
    [event] = await crm.events("crm.quote.accepted.v1")
    assert event["subject"] == quote["id"]
    assert event["actor"] == f"user-sales-{sales_rep}"
    data = event["data"]
    assert data["number"] == quote["number"]
    assert data["customer_id"] == customer["id"]
    assert data["opportunity_id"] is None
    assert data["owner_id"] == str(sales_rep)
    assert data["currency"] == "EUR"
    assert data["valid_until"] == quote["valid_until"]
    for total in ("subtotal", "discount_total", "tax_total", "total"):
        assert data[total] == quote[total]
    assert [
        (line["sku"], line["quantity"], line["line_net"], line["line_tax"])
        for line in data["lines"]
    ] == [
        ("CHAIR", 3, "53.97", "10.25"),
        ("DESK", 1, "199.00", "13.93"),
    ]
    assert data["lines"][0]["product_id"] == quote["lines"][0]["product_id"]
    assert data["lines"][0]["name"] == "Product CHAIR"
    snapshot = data["customer"]
    assert snapshot["id"] == customer["id"]
    assert snapshot["version"] == customer["version"]
    assert snapshot["name"] == "Snapshot AG"
    assert snapshot["credit_limit"] == "5000.00"
    assert snapshot["payment_terms_days"] == 14
    assert snapshot["billing_address"]["city"] == "Berlin"
    assert snapshot["shipping_address"]["city"] == "Potsdam"


async def test_a_quote_past_its_valid_until_can_be_neither_sent_nor_accepted(
    crm: Crm, rep: dict[str, str], customer_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = await new_quote(crm, rep, customer_id, valid_until=today().isoformat())
    await move(crm, sent["id"], "send", rep)
    draft = await new_quote(crm, rep, customer_id, valid_until=today().isoformat())
    two_days_later = datetime.now(UTC) + timedelta(days=2)
    monkeypatch.setattr(UnitOfWork, "now", staticmethod(lambda: two_days_later))
    late_accept = await move(crm, sent["id"], "accept", rep)
    assert late_accept.status_code == 409
    assert late_accept.json()["current_status"] == "sent"
    assert late_accept.json()["allowed"] == ["reject"]
    late_send = await move(crm, draft["id"], "send", rep)
    assert late_send.status_code == 409
    assert await crm.events("crm.quote.accepted.v1") == []
    renewed = await crm.client.patch(
        f"/quotes/{draft['id']}",
        json={"valid_until": (two_days_later.date() + timedelta(days=7)).isoformat()},
        headers=rep,
    )
    assert renewed.status_code == 200
    assert (await move(crm, draft["id"], "send", rep)).status_code == 200


async def test_accepting_wins_the_opportunity_in_the_same_transaction(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    opportunity = await crm.client.post(
        "/opportunities",
        json={"customer_id": customer_id, "name": "Office refit", "amount": "1000.00"},
        headers=rep,
    )
    assert opportunity.status_code == 201, opportunity.text
    opportunity_id = opportunity.json()["id"]
    quote = await new_quote(crm, rep, customer_id, opportunity_id=opportunity_id)
    assert quote["opportunity_id"] == opportunity_id
    await move(crm, quote["id"], "send", rep)
    assert (await move(crm, quote["id"], "accept", rep)).status_code == 200
    won = await crm.client.get(f"/opportunities/{opportunity_id}", headers=rep)
    assert won.json()["stage"] == "won"
    [won_event] = await crm.events("crm.opportunity.won.v1")
    assert won_event["data"]["opportunity_id"] == opportunity_id
    [accepted] = await crm.events("crm.quote.accepted.v1")
    assert accepted["data"]["opportunity_id"] == opportunity_id


async def test_the_opportunity_must_be_the_customers_and_open(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    other_customer = await new_customer(crm, rep, "Other Ltd")
    created = await crm.client.post(
        "/opportunities",
        json={"customer_id": other_customer, "name": "Elsewhere", "amount": "10.00"},
        headers=rep,
    )
    assert created.status_code == 201, created.text
    foreign = await create_quote(crm, rep, customer_id, opportunity_id=created.json()["id"])
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "opportunity_id"
    mine = await crm.client.post(
        "/opportunities",
        json={"customer_id": customer_id, "name": "Lost one", "amount": "10.00"},
        headers=rep,
    )
    lost = await crm.client.post(
        f"/opportunities/{mine.json()['id']}/lose", json={"reason": "Budget"}, headers=rep
    )
    assert lost.status_code == 200, lost.text
    closed = await create_quote(crm, rep, customer_id, opportunity_id=mine.json()["id"])
    assert closed.status_code == 422
    assert closed.json()["errors"][0]["field"] == "opportunity_id"
    assert (await crm.client.get("/quotes", headers=rep)).json()["items"] == []


async def test_the_sweep_expires_only_overdue_sent_quotes_and_publishes_once(
    crm: Crm, rep: dict[str, str], customer_id: str, crm_settings: Settings
) -> None:
    last_day = today().isoformat()
    overdue = await new_quote(crm, rep, customer_id, valid_until=last_day)
    await move(crm, overdue["id"], "send", rep)
    draft = await new_quote(crm, rep, customer_id, valid_until=last_day)
    accepted = await new_quote(crm, rep, customer_id, valid_until=last_day)
    await move(crm, accepted["id"], "send", rep)
    await move(crm, accepted["id"], "accept", rep)
    later = await new_quote(
        crm, rep, customer_id, valid_until=(today() + timedelta(days=5)).isoformat()
    )
    await move(crm, later["id"], "send", rep)
    sessions = session_factory(crm.engine)

    assert await expire_overdue_quotes(sessions, crm_settings, today=today()) == 0
    assert (
        await expire_overdue_quotes(sessions, crm_settings, today=today() + timedelta(days=1)) == 1
    )
    assert (
        await expire_overdue_quotes(sessions, crm_settings, today=today() + timedelta(days=1)) == 0
    )

    statuses = {
        quote["id"]: (await crm.client.get(f"/quotes/{quote['id']}", headers=rep)).json()["status"]
        for quote in (overdue, draft, accepted, later)
    }
    assert statuses == {
        overdue["id"]: "expired",
        draft["id"]: "draft",
        accepted["id"]: "accepted",
        later["id"]: "sent",
    }
    [event] = await crm.events("crm.quote.expired.v1")
    assert event["subject"] == overdue["id"]
    assert event["actor"] == "crm-service"
    assert event["data"]["version"] == 3
    assert event["data"]["valid_until"] == last_day
    refused = await move(crm, overdue["id"], "accept", rep)
    assert (refused.status_code, refused.json()["current_status"]) == (409, "expired")


async def test_the_sweep_works_through_every_batch(
    crm: Crm, rep: dict[str, str], customer_id: str, crm_settings: Settings
) -> None:
    for _ in range(5):
        quote = await new_quote(crm, rep, customer_id, valid_until=today().isoformat())
        await move(crm, quote["id"], "send", rep)
    sessions = session_factory(crm.engine)
    tomorrow = today() + timedelta(days=1)
    assert await expire_overdue_quotes(sessions, crm_settings, today=tomorrow, batch_size=2) == 5
    assert len(await crm.events("crm.quote.expired.v1")) == 5
    [job] = periodic_jobs(sessions, crm_settings)
    assert job.name == "expire-quotes"
    assert job.interval == timedelta(minutes=15)
    assert await job.run() == 0


async def test_a_quote_accepted_while_the_sweep_runs_is_never_expired(
    crm: Crm, rep: dict[str, str], customer_id: str, crm_settings: Settings
) -> None:
    quotes = []
    for _ in range(4):
        quote = await new_quote(crm, rep, customer_id, valid_until=today().isoformat())
        await move(crm, quote["id"], "send", rep)
        quotes.append(quote)
    sessions = session_factory(crm.engine)
    # The sweep believes the quotes are overdue while the accepts still find them valid.
    tomorrow = today() + timedelta(days=1)
    results = await asyncio.gather(
        *(move(crm, quote["id"], "accept", rep) for quote in quotes),
        expire_overdue_quotes(sessions, crm_settings, today=tomorrow, batch_size=1),
    )
    accepts, expired_count = results[:-1], results[-1]
    expired_events = {e["subject"] for e in await crm.events("crm.quote.expired.v1")}
    accepted_events = {e["subject"] for e in await crm.events("crm.quote.accepted.v1")}
    assert len(expired_events) == expired_count
    for quote, accept in zip(quotes, accepts, strict=True):
        assert isinstance(accept, httpx.Response)
        final = (await crm.client.get(f"/quotes/{quote['id']}", headers=rep)).json()["status"]
        if accept.status_code == 200:
            assert final == "accepted"
            assert quote["id"] in accepted_events
            assert quote["id"] not in expired_events
        else:
            assert accept.status_code == 409, accept.text
            assert final == "expired"
            assert quote["id"] in expired_events
            assert quote["id"] not in accepted_events


async def test_lists_filter_search_and_page_by_keyset(
    crm: Crm, rep: dict[str, str], customer_id: str, sales_rep: uuid.UUID
) -> None:
    other_customer = await new_customer(crm, rep, "Other Ltd")
    manager_id = await crm.hire("sales_manager")
    manager = crm.headers("sales_manager", manager_id)
    created = [await new_quote(crm, rep, customer_id) for _ in range(3)]
    created.append(await new_quote(crm, manager, other_customer))
    await move(crm, created[0]["id"], "send", rep)
    year = today().year

    async def listed(**params: Any) -> list[str]:
        response = await crm.client.get("/quotes", params=params, headers=crm.headers("support"))
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()["items"]]

    numbers = [quote["number"] for quote in created]
    assert await listed() == numbers[::-1]
    assert await listed(sort="number") == numbers
    assert await listed(status=["draft"]) == numbers[1:][::-1]
    assert await listed(status=["draft", "sent"], customer_id=customer_id) == numbers[:3][::-1]
    assert await listed(owner_id=str(manager_id)) == [numbers[3]]
    assert await listed(owner_id=str(sales_rep), sort="number") == numbers[:3]
    assert await listed(q=f"q-{year}-000004") == [numbers[3]]
    assert await listed(q=f"Q-{year}-00000", sort="-number") == numbers[::-1]
    assert await listed(q="Q-1999") == []
    assert await listed(q="%") == []
    assert await listed(created_to=created[0]["created_at"]) == []

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "sort": "number"}
        if cursor:
            params["cursor"] = cursor
        page = (await crm.client.get("/quotes", params=params, headers=rep)).json()
        pages += [item["number"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
        await new_quote(crm, rep, customer_id)  # a newer quote sorts after this page
    assert pages[:4] == numbers
    assert len(pages) == len(set(pages)) == 5
    bad_sort = await crm.client.get("/quotes", params={"sort": "currency"}, headers=rep)
    assert bad_sort.status_code == 422


async def test_an_idempotency_key_replays_the_first_quote(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    headers = {**rep, "Idempotency-Key": "quote-create-1"}
    body = {"customer_id": customer_id, "lines": [{"sku": "CHAIR", "quantity": 2}]}
    first = await crm.client.post("/quotes", json=body, headers=headers)
    again = await crm.client.post("/quotes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    changed = await crm.client.post("/quotes", json={**body, "notes": "different"}, headers=headers)
    assert changed.status_code == 422
    listed = (await crm.client.get("/quotes", headers=rep)).json()["items"]
    assert [quote["id"] for quote in listed] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("role", "code"),
    [
        ("sales", 200),
        ("sales_manager", 200),
        ("support", 200),
        ("admin", 200),
        ("warehouse", 403),
        ("finance", 403),
        ("hr", 403),
    ],
)
async def test_who_may_read_quotes(
    crm: Crm, rep: dict[str, str], customer_id: str, role: str, code: int
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    headers = crm.headers(role, uuid.uuid4())
    assert (await crm.client.get(f"/quotes/{quote['id']}", headers=headers)).status_code == code
    assert (await crm.client.get("/quotes", headers=headers)).status_code == code


@pytest.mark.parametrize(
    ("role", "code"),
    [("support", 403), ("warehouse", 403), ("finance", 403), ("hr", 403), ("admin", 201)],
)
async def test_who_may_create_quotes(
    crm: Crm, rep: dict[str, str], customer_id: str, role: str, code: int
) -> None:
    response = await create_quote(crm, crm.headers(role, uuid.uuid4()), customer_id)
    assert response.status_code == code
    listed = [
        quote["id"] for quote in (await crm.client.get("/quotes", headers=rep)).json()["items"]
    ]
    if code == 201:
        assert response.json()["owner_id"] is None  # the creator may not own quotes
        assert listed == [response.json()["id"]]
    else:
        assert listed == []


async def test_sales_change_and_move_only_their_own_quotes(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    quote = await new_quote(crm, rep, customer_id)
    other = crm.headers("sales", await crm.hire("sales", name="Other Rep"))
    url = f"/quotes/{quote['id']}"
    assert (await crm.client.patch(url, json={"notes": "x"}, headers=other)).status_code == 403
    for action in ("send", "accept", "reject"):
        assert (await move(crm, quote["id"], action, other)).status_code == 403
    support = crm.headers("support", await crm.hire("support"))
    assert (await move(crm, quote["id"], "send", support)).status_code == 403
    assert (await crm.client.get(url, headers=rep)).json() == quote
    assert [e for e in await crm.events() if e["type"].startswith("crm.quote.")] == []
    manager = crm.headers("sales_manager", await crm.hire("sales_manager"))
    sent = await move(crm, quote["id"], "send", manager)
    assert (sent.status_code, sent.json()["status"]) == (200, "sent")
    admin = crm.headers("admin", uuid.uuid4())
    accepted = await move(crm, quote["id"], "accept", admin)
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")


async def test_only_managers_give_a_quote_to_another_rep(
    crm: Crm, rep: dict[str, str], customer_id: str, sales_rep: uuid.UUID
) -> None:
    other_id = await crm.hire("sales", name="Other Rep")
    refused = await create_quote(crm, rep, customer_id, owner_id=str(other_id))
    assert refused.status_code == 403
    assert refused.json()["errors"] == [
        {"field": "owner_id", "message": "not allowed for your role"}
    ]
    mine = await new_quote(crm, rep, customer_id, owner_id=str(sales_rep))
    handover = await crm.client.patch(
        f"/quotes/{mine['id']}", json={"owner_id": str(other_id)}, headers=rep
    )
    assert handover.status_code == 403
    assert (await crm.client.get(f"/quotes/{mine['id']}", headers=rep)).json() == mine
    manager = crm.headers("sales_manager", await crm.hire("sales_manager"))
    given = await crm.client.patch(
        f"/quotes/{mine['id']}", json={"owner_id": str(other_id)}, headers=manager
    )
    assert given.status_code == 200
    assert given.json()["owner_id"] == str(other_id)
    support_id = await crm.hire("support")
    ineligible = await create_quote(crm, manager, customer_id, owner_id=str(support_id))
    assert ineligible.status_code == 422
    assert ineligible.json()["errors"][0]["field"] == "owner_id"
    listed = (await crm.client.get("/quotes", headers=rep)).json()["items"]
    assert [quote["id"] for quote in listed] == [mine["id"]]


async def test_a_rep_may_not_win_another_reps_deal_through_a_quote(
    crm: Crm, rep: dict[str, str], customer_id: str
) -> None:
    other = crm.headers("sales", await crm.hire("sales", name="Other Rep"))
    deal = {"customer_id": customer_id, "name": "Their deal", "amount": "1000.00"}
    theirs = (await crm.client.post("/opportunities", json=deal, headers=other)).json()

    attached = await create_quote(crm, rep, customer_id, opportunity_id=theirs["id"])

    assert attached.status_code == 403, attached.text
    assert attached.headers["content-type"].startswith("application/problem+json")
    assert attached.json()["errors"] == [
        {"field": "opportunity_id", "message": "only its owner may quote this opportunity"}
    ]
    mine = await new_quote(crm, rep, customer_id)
    moved = await crm.client.patch(
        f"/quotes/{mine['id']}", json={"opportunity_id": theirs["id"]}, headers=rep
    )
    assert moved.status_code == 403, moved.text
    assert (await crm.client.get(f"/quotes/{mine['id']}", headers=rep)).json() == mine
    assert len((await crm.client.get("/quotes", headers=rep)).json()["items"]) == 1
    # Their own quote on it, or a manager's, still wins it.
    manager = crm.headers("sales_manager", await crm.hire("sales_manager"))
    quote = await new_quote(crm, manager, customer_id, opportunity_id=theirs["id"])
    await move(crm, quote["id"], "send", manager)
    assert (await move(crm, quote["id"], "accept", manager)).status_code == 200
    won = await crm.client.get(f"/opportunities/{theirs['id']}", headers=other)
    assert won.json()["stage"] == "won"


async def test_an_unknown_quote_is_404(crm: Crm, rep: dict[str, str]) -> None:
    missing = uuid.uuid4()
    assert (await crm.client.get(f"/quotes/{missing}", headers=rep)).status_code == 404
    assert (await move(crm, str(missing), "send", rep)).status_code == 404
    response = await crm.client.patch(f"/quotes/{missing}", json={"notes": "x"}, headers=rep)
    assert response.status_code == 404
