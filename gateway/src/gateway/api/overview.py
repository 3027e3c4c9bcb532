"""`GET /api/customers/{id}/overview`: one customer as a frontend's account page shows it,
from CRM (the customer, contacts, open opportunities and inquiries, recent activities)
and ERP (recent orders, open invoices and the balance), fetched at once. When one side
fails or is too slow the other side's part is still answered, naming the missing side in
`degraded`; a part the caller's role may not read is left out (null), not degraded. Only
the customer's own read decides that there is no such customer (404) or that the caller
may not read it (403). The balance is the sum over every open invoice, read page by page;
each call to a service is a child span of the caller's trace, or of one trace the gateway
starts when the caller sent none."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

import aiohttp
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.adapters.upstream import Upstream, UpstreamFailure
from gateway.config import Settings
from gateway.domain.breaker import CircuitOpen
from gateway.domain.trace_context import child_traceparent, continued
from shared_schemas.domain import Forbidden, NotFound
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money

router = APIRouter(tags=["overview"])

# The gateway's own grant, held by every role that reads CRM customers (design §7; the
# permission table's tests keep the two the same).
ReadAccess = Annotated[Access, Depends(Authorize("gateway", "customer-overview", "read"))]

RECENT = 10
OPEN_OPPORTUNITY_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
OPEN_INQUIRY_STATUSES = ("new", "open", "pending")
OPEN_INVOICE_STATUSES = ("issued", "partially_paid")
# The largest page the services give (design §4).
PAGE = 200
CENT = Decimal("0.01")

EXAMPLE: dict[str, JsonValue] = {
    "customer": {"id": "2d4f6a8c-0e2a-4c6e-8a0c-2e4a6c8e0a40", "name": "Acme GmbH"},
    "contacts": [{"name": "Ada Buyer", "email": "ada@acme.example"}],
    "open_opportunities": [],
    "open_inquiries": [],
    "recent_activities": [],
    "recent_orders": [{"number": "SO-2026-000042", "status": "shipped", "total": "1250.00"}],
    "open_invoices": [{"number": "INV-2026-000007", "amount_due": "1250.00"}],
    "balance": "1250.00",
    "currency": "EUR",
    "degraded": [],
}


class CustomerOverview(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    customer: dict[str, Any] | None = Field(description="Null only when CRM is degraded.")
    contacts: list[dict[str, Any]] | None = Field(
        description="The first 50 contacts, the primary one first, then by name."
    )
    open_opportunities: list[dict[str, Any]] | None
    open_inquiries: list[dict[str, Any]] | None
    recent_activities: list[dict[str, Any]] | None
    recent_orders: list[dict[str, Any]] | None
    open_invoices: list[dict[str, Any]] | None
    balance: Money | None = Field(description="What the open invoices still ask.")
    currency: str | None
    degraded: list[str] = Field(description="Services that failed or timed out: `crm`, `erp`.")


class _Hidden(Exception):
    """The caller's role may not read this part."""


class _Failed(Exception):
    """The service gave no usable answer."""


DESCRIPTION = """One customer as an account page shows it. From CRM: the customer, its first 50
contacts (the primary one first, then by name), open opportunities (stages prospecting to
negotiation, up to 50), open inquiries (new, open, pending; up to 50) and the 10 most
recent activities. From ERP: the 10 most recent orders, every open invoice (issued or
partially paid, read page by page) and `balance`, their `amount_due` summed as a decimal
string with two decimals in `currency`.

Every part is read with the caller's own token, so the services' own checks apply: a
part the caller's role may not read (the service answers 403 or 404) is null and is not
named in `degraded` (support sees no invoices and no balance; finance no contacts,
pipeline, inquiries or activities).

Both services are asked at once, each call within the gateway's upstream connect and read
timeouts (`GATEWAY_UPSTREAM_READ_TIMEOUT`); a call that misses them counts against its
service's circuit breaker, so a hung service soon degrades the page at once. When a
service is unreachable, answers with an error, answers something unreadable, does not
answer in time or its circuit breaker is open, every part from it is null and the
service is named in `degraded` (`crm`, `erp`); the rest is still answered with 200.

The customer's own read in CRM decides: a customer CRM does not know (or does not show
the caller) is a 404, one CRM refuses the caller is a 403. While CRM is degraded the
customer cannot be confirmed: `customer` is null and only the ERP side is shown.

Each call carries the request's `X-Request-ID` and a child `traceparent` of the
caller's trace (of one trace the gateway starts when the caller sent none)."""


@router.get(
    "/api/customers/{customer_id}/overview",
    summary="A customer with contacts, pipeline, support and activities from CRM and "
    "orders, open invoices and balance from ERP",
    description=DESCRIPTION,
    responses={
        403: {"description": "The caller's role may not read customers, or CRM refused it"},
        404: {"description": "No such customer (or not visible to the caller)"},
        422: {"description": "The id is not a UUID"},
    },
)
async def customer_overview(
    customer_id: uuid.UUID, request: Request, _access: ReadAccess
) -> CustomerOverview:
    settings: Settings = request.app.state.settings
    upstreams: Mapping[str, Upstream] = request.app.state.upstreams
    forwarded = _forwarded(request)
    trace = request.headers.get("traceparent")
    if continued(trace) is None:
        # The gateway starts the trace, so that every call below is a span of the same one.
        trace = child_traceparent(None)
    crm, erp = upstreams["crm"], upstreams["erp"]
    of_customer = {"customer_id": str(customer_id)}
    customer_path = f"/customers/{customer_id}"

    async def get(upstream: Upstream, path: str, params: Mapping[str, Any] | None = None) -> Any:
        target = f"{path}?{urlencode(params, doseq=True)}" if params else path
        headers = [*forwarded, ("traceparent", child_traceparent(trace))]
        try:
            response = await upstream.send("GET", target, headers, None, replayable=True)
        except (UpstreamFailure, CircuitOpen) as exc:
            raise _Failed(upstream.name) from exc
        try:
            body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Failed(upstream.name) from exc
        finally:
            upstream.release(response)
        if response.status == 404 and path == customer_path:
            raise NotFound("customer", customer_id)
        if response.status == 403 and path == customer_path:
            raise Forbidden(f"You may not read customer {customer_id}.")
        if response.status in (403, 404):
            raise _Hidden(path)
        if response.status != 200:
            raise _Failed(upstream.name)
        try:
            return json.loads(body)
        except ValueError as exc:  # not JSON: an error page of something in between
            raise _Failed(upstream.name) from exc

    async def items(upstream: Upstream, path: str, params: Mapping[str, Any]) -> Any:
        """The first page of a list."""
        page = await get(upstream, path, params)
        if not isinstance(page, dict):
            raise _Failed(upstream.name)
        return _listed(upstream, page.get("items"))

    async def record(upstream: Upstream, path: str) -> Any:
        found = await get(upstream, path)
        if not isinstance(found, dict):
            raise _Failed(upstream.name)
        return found

    async def every_item(upstream: Upstream, path: str, params: Mapping[str, Any]) -> Any:
        """Every page of a list, following `next_cursor` to the end."""
        collected: list[Any] = []
        cursor = None
        while True:
            query = {**params, "limit": PAGE}
            if cursor:
                query["cursor"] = cursor
            page = await get(upstream, path, query)
            if not isinstance(page, dict):
                raise _Failed(upstream.name)
            collected.extend(_listed(upstream, page.get("items")))
            cursor = page.get("next_cursor")
            if not cursor:
                return collected

    crm_parts = {
        "customer": record(crm, customer_path),
        "contacts": items(crm, f"{customer_path}/contacts", {"limit": 50}),
        "open_opportunities": items(
            crm, "/opportunities", {**of_customer, "stage": OPEN_OPPORTUNITY_STAGES, "limit": 50}
        ),
        "open_inquiries": items(
            crm, "/inquiries", {**of_customer, "status": OPEN_INQUIRY_STATUSES, "limit": 50}
        ),
        "recent_activities": items(crm, "/activities", {**of_customer, "limit": RECENT}),
    }
    erp_parts = {
        "recent_orders": items(erp, "/orders", {**of_customer, "limit": RECENT}),
        "open_invoices": every_item(
            erp, "/invoices", {**of_customer, "status": OPEN_INVOICE_STATUSES}
        ),
    }
    # One deadline for everything: a slow side costs the page no more than this. Past
    # the upstreams' own connect and read timeouts, so a service that does not answer
    # fails there first and counts against its circuit breaker (a call cancelled here
    # counts for nothing, and a hung service would hold every page this long for ever).
    budget = settings.upstream_connect_timeout + settings.upstream_read_timeout + 1.0
    results = await asyncio.gather(
        *(asyncio.wait_for(part, budget) for part in (*crm_parts.values(), *erp_parts.values())),
        return_exceptions=True,
    )
    found: dict[str, Any] = {}
    degraded: set[str] = set()
    for (name, side), result in zip(
        [*((n, "crm") for n in crm_parts), *((n, "erp") for n in erp_parts)], results, strict=True
    ):
        if isinstance(result, NotFound):
            raise result
        if isinstance(result, _Hidden):
            found[name] = None
        elif isinstance(result, _Failed | TimeoutError):
            found[name] = None
            degraded.add(side)
        elif isinstance(result, BaseException):
            raise result
        else:
            found[name] = result
    invoices = found.get("open_invoices")
    balance: Decimal | None = None
    currency: str | None = None
    if invoices is not None and "erp" not in degraded:
        try:
            balance = sum((Decimal(invoice["amount_due"]) for invoice in invoices), Decimal("0.00"))
            if not balance.is_finite() or balance != balance.quantize(CENT):
                raise InvalidOperation(balance)
            currency = str(invoices[0]["currency"]) if invoices else settings.company.currency
        except (KeyError, TypeError, InvalidOperation):
            balance = None
            degraded.add("erp")  # amounts that are no amounts: no balance to trust
    if "crm" in degraded:
        # Without CRM nothing of its part is shown: half a customer would mislead.
        found.update(dict.fromkeys(crm_parts))
    if "erp" in degraded:
        found.update(dict.fromkeys(erp_parts))
    return CustomerOverview(
        **found,
        balance=balance,
        currency=currency if balance is not None else None,
        degraded=sorted(degraded),
    )


def _listed(upstream: Upstream, found: object) -> list[dict[str, Any]]:
    """A list of records, or the service's answer is not usable."""
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise _Failed(upstream.name)
    return found


def _forwarded(request: Request) -> list[tuple[str, str]]:
    """The caller's token and the request's id (the one its answer carries) travel on:
    the services check the same token, and their logs name the same request."""
    headers = [("accept", "application/json"), ("x-request-id", request.state.request_id)]
    authorization = request.headers.get("authorization")
    if authorization:
        headers.append(("authorization", authorization))
    return headers
