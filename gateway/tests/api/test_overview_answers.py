"""The customer overview against stub services that answer what real ones should not, or
refuse the caller: CRM refusing the customer is a 403 (not a page without a customer), an
answer that is not what was asked for names its service degraded (not a 500), a request
without a trace is still one trace across both services, a malformed id is a 422 that
asks nobody, an open ERP breaker is degraded without asking ERP, and the contacts are
the first page CRM gives."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.edge import bearer, edge_gateway
from tests.support.stub_upstreams import Arrived, Reply, StubUpstream

pytestmark = pytest.mark.api

CUSTOMER = uuid.uuid4()
OVERVIEW = f"/api/customers/{CUSTOMER}/overview"
EMPTY_PAGE = {"items": [], "next_cursor": None}
Behaviour = Callable[[int, Arrived], Awaitable[Reply]]


def answer(body: object, status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def html(status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", "text/html")], b"<html>Bad gateway</html>")


CONTACTS = answer({"items": [{"name": "Ada Buyer"}], "next_cursor": None})


def crm_with(customer: Reply, contacts: Reply = CONTACTS) -> Behaviour:
    async def behaviour(_: int, arrived: Arrived) -> Reply:
        path = urlsplit(arrived.target).path
        if path == f"/customers/{CUSTOMER}":
            return customer
        if path == f"/customers/{CUSTOMER}/contacts":
            return contacts
        return answer(EMPTY_PAGE)

    return behaviour


CRM = crm_with(answer({"id": str(CUSTOMER), "name": "Acme GmbH"}))


def erp_with(invoices: Reply, orders: Reply | None = None) -> Behaviour:
    async def behaviour(_: int, arrived: Arrived) -> Reply:
        path = urlsplit(arrived.target).path
        if path == "/invoices":
            return invoices
        if path == "/orders" and orders is not None:
            return orders
        return answer(EMPTY_PAGE)

    return behaviour


async def overview_from(
    database_url: str, crm: Behaviour, erp: Behaviour, role: str = "sales"
) -> dict[str, object]:
    async with (
        StubUpstream(crm) as crm_stub,
        StubUpstream(erp) as erp_stub,
        edge_gateway(database_url, crm_url=crm_stub.url, erp_url=erp_stub.url) as gateway,
    ):
        response = await gateway.client.get(OVERVIEW, headers=bearer(role))
        assert response.status_code == 200, response.text
        found: dict[str, object] = response.json()
        return found


async def test_crm_refusing_the_customer_is_a_403_not_a_page_without_one(
    database_url: str,
) -> None:
    async with (
        StubUpstream(crm_with(answer({"status": 403}, 403))) as crm,
        StubUpstream(erp_with(answer(EMPTY_PAGE))) as erp,
        edge_gateway(database_url, crm_url=crm.url, erp_url=erp.url) as gateway,
    ):
        response = await gateway.client.get(OVERVIEW, headers=bearer("sales"))
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert str(CUSTOMER) in response.json()["detail"]


@pytest.mark.parametrize(
    "orders",
    [
        html(),  # an error page of a proxy in between, with 200
        answer({"items": None, "next_cursor": None}),
        answer({"detail": "no items at all"}),
        answer(["not a record"]),
    ],
)
async def test_an_erp_answer_that_is_no_list_of_records_is_degraded_not_a_500(
    database_url: str, orders: Reply
) -> None:
    overview = await overview_from(database_url, CRM, erp_with(answer(EMPTY_PAGE), orders))
    assert overview["degraded"] == ["erp"]
    assert overview["customer"] == {"id": str(CUSTOMER), "name": "Acme GmbH"}
    assert overview["contacts"] == [{"name": "Ada Buyer"}]
    assert (overview["recent_orders"], overview["open_invoices"], overview["balance"]) == (
        None,
        None,
        None,
    )


async def test_a_customer_that_is_no_record_names_crm_degraded(database_url: str) -> None:
    overview = await overview_from(database_url, crm_with(html()), erp_with(answer(EMPTY_PAGE)))
    assert overview["degraded"] == ["crm"]
    assert (overview["customer"], overview["contacts"]) == (None, None)
    assert (overview["recent_orders"], overview["balance"]) == ([], "0.00")


@pytest.mark.parametrize("amount_due", [None, "twelve", "NaN", "1.005"])
async def test_invoices_without_a_usable_amount_give_no_balance_and_name_erp_degraded(
    database_url: str, amount_due: str | None
) -> None:
    invoices = [{"number": "INV-2026-000001", "amount_due": amount_due, "currency": "EUR"}]
    overview = await overview_from(
        database_url, CRM, erp_with(answer({"items": invoices, "next_cursor": None}))
    )
    assert overview["degraded"] == ["erp"]
    assert (overview["open_invoices"], overview["balance"], overview["currency"]) == (
        None,
        None,
        None,
    )
    assert overview["customer"] == {"id": str(CUSTOMER), "name": "Acme GmbH"}


async def test_the_contacts_are_the_first_page_crm_gives_primary_first(
    database_url: str,
) -> None:
    first_page = [{"name": "Zoe Primary", "is_primary": True}, {"name": "Ada Buyer"}]
    contacts = answer({"items": first_page, "next_cursor": "after-ada"})
    async with (
        StubUpstream(crm_with(answer({"id": str(CUSTOMER)}), contacts)) as crm,
        StubUpstream(erp_with(answer(EMPTY_PAGE))) as erp,
        edge_gateway(database_url, crm_url=crm.url, erp_url=erp.url) as gateway,
    ):
        response = await gateway.client.get(OVERVIEW, headers=bearer("sales"))
        assert response.status_code == 200, response.text
        assert response.json()["degraded"] == []
        assert response.json()["contacts"] == first_page
        asked = [
            parse_qs(urlsplit(call.target).query)
            for call in crm.arrived
            if urlsplit(call.target).path.endswith("/contacts")
        ]
        assert asked == [{"limit": ["50"]}]


@pytest.mark.parametrize(
    "contacts",
    [
        answer([{"name": "Ada Buyer"}]),  # a bare list, not a page
        answer({"items": None, "next_cursor": None}),
        answer({"items": ["not a record"], "next_cursor": None}),
    ],
)
async def test_contacts_that_are_no_page_of_records_name_crm_degraded(
    database_url: str, contacts: Reply
) -> None:
    crm = crm_with(answer({"id": str(CUSTOMER), "name": "Acme GmbH"}), contacts)
    overview = await overview_from(database_url, crm, erp_with(answer(EMPTY_PAGE)))
    assert overview["degraded"] == ["crm"]
    assert (overview["customer"], overview["contacts"]) == (None, None)
    assert (overview["recent_orders"], overview["balance"]) == ([], "0.00")


async def test_the_balance_is_a_two_decimal_string_in_the_invoices_currency(
    database_url: str,
) -> None:
    invoices = [
        {"number": "INV-2026-000001", "amount_due": "0.10", "currency": "EUR"},
        {"number": "INV-2026-000002", "amount_due": "0.20", "currency": "EUR"},
        {"number": "INV-2026-000003", "amount_due": "1000", "currency": "EUR"},
    ]
    overview = await overview_from(
        database_url, CRM, erp_with(answer({"items": invoices, "next_cursor": None}))
    )
    assert overview["degraded"] == []
    assert (overview["balance"], overview["currency"]) == ("1000.30", "EUR")
    assert Decimal(str(overview["balance"])) == Decimal("1000.30")


async def test_without_a_caller_trace_every_call_is_a_span_of_one_trace(
    database_url: str,
) -> None:
    async with (
        StubUpstream(CRM) as crm,
        StubUpstream(erp_with(answer(EMPTY_PAGE))) as erp,
        edge_gateway(database_url, crm_url=crm.url, erp_url=erp.url) as gateway,
    ):
        response = await gateway.client.get(OVERVIEW, headers=bearer("sales"))
        assert response.status_code == 200, response.text
        calls = [*crm.arrived, *erp.arrived]
        assert len(calls) == 7
        parents = [call.header("traceparent") or "" for call in calls]
        assert len({p.split("-")[1] for p in parents}) == 1, parents
        assert len({p.split("-")[2] for p in parents}) == len(calls), parents


async def test_a_malformed_id_is_a_422_problem_and_asks_no_service(database_url: str) -> None:
    async with (
        StubUpstream(CRM) as crm,
        StubUpstream(erp_with(answer(EMPTY_PAGE))) as erp,
        edge_gateway(database_url, crm_url=crm.url, erp_url=erp.url) as gateway,
    ):
        for malformed in ("not-a-uuid", "1%20OR%201=1", "..%2F..%2Finvoices"):
            response = await gateway.client.get(
                f"/api/customers/{malformed}/overview", headers=bearer("sales")
            )
            assert response.status_code in (404, 422), (malformed, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        assert (crm.arrived, erp.arrived) == ([], [])


async def test_with_the_erp_breaker_open_the_overview_is_degraded_without_asking_erp(
    database_url: str,
) -> None:
    async with (
        StubUpstream(CRM) as crm,
        StubUpstream(erp_with(answer({"status": 500}, 500))) as erp,
        edge_gateway(
            database_url,
            crm_url=crm.url,
            erp_url=erp.url,
            breaker_failures=1,
            breaker_cooldown_seconds=600,
        ) as gateway,
    ):
        first = await gateway.client.get(OVERVIEW, headers=bearer("sales"))
        assert first.status_code == 200, first.text
        assert first.json()["degraded"] == ["erp"]
        asked = len(erp.arrived)
        again = await gateway.client.get(OVERVIEW, headers=bearer("sales"))
        assert again.status_code == 200, again.text
        assert again.json()["degraded"] == ["erp"]
        assert again.json()["customer"]["name"] == "Acme GmbH"
        assert len(erp.arrived) == asked, "an open breaker does not ask ERP"
