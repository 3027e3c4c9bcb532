"""Use cases of quotes: create and edit drafts, send, accept, reject, and find them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm.adapters.customers import Customer
from crm.adapters.orm import document_sequences
from crm.adapters.pipeline import Opportunity
from crm.adapters.quotes import Quote, QuoteLine
from crm.adapters.replicas import ProductReplica
from crm.domain.quotes import (
    DRAFT,
    LIFECYCLE,
    CatalogueItem,
    PricedLine,
    check_valid_until,
    company_today,
    default_valid_until,
    price_lines,
    require_editable,
    require_open_opportunity,
    require_still_valid,
)
from crm.domain.staff import OWNER_ROLES
from crm.service.customers import check_version, require_unarchived, snapshot
from crm.service.opportunities import win_for_accepted_quote
from crm.service.staff import default_assignee, require_eligible
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.domain import Conflict, NotFound, RuleViolation
from shared_schemas.events.crm.quotes import QuoteAccepted, QuoteRejected, QuoteSent
from shared_schemas.events.documents import QuoteLine as QuoteLineData
from shared_schemas.http.pagination import Page
from shared_schemas.http.problems import Problem
from shared_schemas.identity import Access
from shared_schemas.listing import Listing, SortKey, number_prefix_match
from shared_schemas.money import Totals
from shared_schemas.numbering import next_number

LISTING = Listing(
    fields={
        "created_at": SortKey(Quote.created_at, datetime),
        "number": SortKey(Quote.number),
        "valid_until": SortKey(Quote.valid_until, date),
        "total": SortKey(Quote.total, Decimal),
    },
    id_column=Quote.id,
)

# Fields of a draft a PATCH may change (lines are replaced as a whole).
EDITABLE = ("customer_id", "opportunity_id", "owner_id", "valid_until", "notes", "lines")


def today(uow: UnitOfWork) -> date:
    """Today in the company's time zone: what valid_until dates are compared with."""
    return company_today(uow.now(), uow.settings.company.zone)


async def get_quote(session: AsyncSession, quote_id: uuid.UUID, *, lock: bool = False) -> Quote:
    """The quote with its lines; `lock` holds its row until the transaction ends, so a
    concurrent change (the expiry sweep) waits for this one and then sees its outcome."""
    quote = await session.get(
        Quote, quote_id, options=[selectinload(Quote.lines)], with_for_update=lock or None
    )
    if quote is None:
        raise NotFound("quote", quote_id)
    return quote


async def create_quote(uow: UnitOfWork, access: Access, values: Mapping[str, Any]) -> Quote:
    """A draft quote, numbered `Q-<year>-<seq>`, its lines priced from the product replica."""
    access.require_fields({k: v for k, v in values.items() if v is not None})
    async with uow:
        session = uow.session
        day = today(uow)
        company_currency = uow.settings.company.currency
        currency = values.get("currency") or company_currency
        if currency != company_currency:
            raise RuleViolation(
                f"Quotes are made in {company_currency} only.",
                [{"field": "currency", "message": f"must be {company_currency}"}],
            )
        customer_id = values["customer_id"]
        await _require_customer(session, customer_id)
        if values.get("opportunity_id") is not None:
            await _require_opportunity(session, values["opportunity_id"], customer_id, access)
        owner_id = values.get("owner_id")
        if owner_id is None:
            owner_id = await default_assignee(session, uow.principal, OWNER_ROLES)
        else:
            await require_eligible(session, owner_id, OWNER_ROLES, "owner_id")
        valid_until = values.get("valid_until") or default_valid_until(
            day, uow.settings.quote_validity_days
        )
        check_valid_until(valid_until, day)
        priced, totals = await _price(session, values["lines"], currency)
        quote = Quote(
            id=uuid.uuid4(),
            number=await next_number(session, document_sequences, "Q", day.year),
            customer_id=customer_id,
            opportunity_id=values.get("opportunity_id"),
            owner_id=owner_id,
            currency=currency,
            status=DRAFT,
            valid_until=valid_until,
            notes=values.get("notes"),
            lines=[],
        )
        _set_lines(quote, priced, totals)
        session.add(quote)
        await session.flush()
    return quote


async def update_quote(
    uow: UnitOfWork,
    access: Access,
    quote_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> Quote:
    """Change a draft; given lines replace all of them and the totals are recomputed."""
    async with uow:
        session = uow.session
        quote = await get_quote(session, quote_id, lock=True)
        check_version(quote.version, expected_version)
        access.require_owner(quote.owner_id)
        # Unfiltered: null is a value too (a rep may not leave their quote to nobody).
        access.require_fields(changes)
        require_editable(quote.status)
        await require_unarchived(session, quote.customer_id, "quote", quote.status)
        customer_id = changes.get("customer_id", quote.customer_id)
        opportunity_id = changes.get("opportunity_id", quote.opportunity_id)
        if "customer_id" in changes and customer_id != quote.customer_id:
            await _require_customer(session, customer_id)
        if opportunity_id is not None and ("customer_id" in changes or "opportunity_id" in changes):
            joining = access if opportunity_id != quote.opportunity_id else None
            await _require_opportunity(session, opportunity_id, customer_id, joining)
        owner_id = changes.get("owner_id", quote.owner_id)
        if owner_id is not None and owner_id != quote.owner_id:
            await require_eligible(session, owner_id, OWNER_ROLES, "owner_id")
        if "valid_until" in changes:
            check_valid_until(changes["valid_until"], today(uow))
        if "lines" in changes:
            priced, totals = await _price(session, changes["lines"], quote.currency)
            _set_lines(quote, priced, totals)
        quote.customer_id = customer_id
        quote.opportunity_id = opportunity_id
        quote.owner_id = owner_id
        quote.valid_until = changes.get("valid_until", quote.valid_until)
        quote.notes = changes.get("notes", quote.notes)
        # Replaced lines alone do not touch the quote's row; every edit is a new version.
        quote.updated_at = uow.now()
        await _flush(session)
    return quote


async def send_quote(
    uow: UnitOfWork, access: Access, quote_id: uuid.UUID, expected_version: int | None
) -> Quote:
    """draft → sent: the customer now holds this version; publishes crm.quote.sent.v1."""
    async with uow:
        quote = await _begin_transition(uow, access, quote_id, expected_version, "send")
        require_still_valid(quote.status, "send", quote.valid_until, today(uow))
        await _active_customer(uow.session, quote, "send")
        quote.status = LIFECYCLE.next(quote.status, "send")
        quote.sent_at = uow.now()
        await _flush(uow.session)
        await uow.record(
            QuoteSent(**_header(quote), **_totals(quote), valid_until=quote.valid_until)
        )
    return quote


async def accept_quote(
    uow: UnitOfWork, access: Access, quote_id: uuid.UUID, expected_version: int | None
) -> Quote:
    """sent → accepted while still valid; publishes crm.quote.accepted.v1 with the lines,
    totals and customer snapshot ERP makes the order from, and wins the opportunity."""
    async with uow:
        session = uow.session
        quote = await _begin_transition(uow, access, quote_id, expected_version, "accept")
        require_still_valid(quote.status, "accept", quote.valid_until, today(uow))
        customer = await _active_customer(session, quote, "accept")
        quote.status = LIFECYCLE.next(quote.status, "accept")
        quote.decided_at = uow.now()
        await _flush(session)
        await uow.record(
            QuoteAccepted(
                **_header(quote),
                **_totals(quote),
                valid_until=quote.valid_until,
                lines=[_line_data(line) for line in quote.lines],
                customer=snapshot(customer),
            )
        )
        if quote.opportunity_id is not None:
            await win_for_accepted_quote(uow, quote.opportunity_id, quote.id)
    return quote


async def reject_quote(
    uow: UnitOfWork,
    access: Access,
    quote_id: uuid.UUID,
    reason: str | None,
    expected_version: int | None,
) -> Quote:
    """sent → rejected, with the customer's reason if given; publishes crm.quote.rejected.v1."""
    async with uow:
        quote = await _begin_transition(uow, access, quote_id, expected_version, "reject")
        quote.status = LIFECYCLE.next(quote.status, "reject")
        quote.rejection_reason = reason
        quote.decided_at = uow.now()
        await _flush(uow.session)
        await uow.record(QuoteRejected(**_header(quote), reason=reason))
    return quote


@dataclass(frozen=True)
class QuoteFilters:
    statuses: list[str] = field(default_factory=list)
    customer_id: uuid.UUID | None = None
    owner_ids: list[uuid.UUID] = field(default_factory=list)
    opportunity_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    q: str | None = None


async def list_quotes(
    session: AsyncSession, filters: QuoteFilters, sort: str | None, cursor: str | None, limit: int
) -> Page[Quote]:
    query = _filtered(select(Quote).options(selectinload(Quote.lines)), filters)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)


def _filtered(query: Select[Any], filters: QuoteFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Quote.status.in_(filters.statuses))
    if filters.customer_id:
        conditions.append(Quote.customer_id == filters.customer_id)
    if filters.owner_ids:
        conditions.append(Quote.owner_id.in_(filters.owner_ids))
    if filters.opportunity_id:
        conditions.append(Quote.opportunity_id == filters.opportunity_id)
    if filters.created_from:
        conditions.append(Quote.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Quote.created_at < filters.created_to)
    if filters.valid_from is not None:
        conditions.append(Quote.valid_until >= filters.valid_from)
    if filters.valid_to is not None:
        conditions.append(Quote.valid_until <= filters.valid_to)
    if filters.q:
        conditions.append(number_prefix_match(Quote.number, filters.q))
    return query.where(and_(*conditions)) if conditions else query


async def _begin_transition(
    uow: UnitOfWork,
    access: Access,
    quote_id: uuid.UUID,
    expected_version: int | None,
    action: str,
) -> Quote:
    quote = await get_quote(uow.session, quote_id, lock=True)
    check_version(quote.version, expected_version)
    access.require_owner(quote.owner_id)
    LIFECYCLE.next(quote.status, action)  # refuse an illegal move before any other rule
    return quote


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict("The quote was changed meanwhile; fetch it again.") from exc


async def _active_customer(session: AsyncSession, quote: Quote, action: str) -> Customer:
    """The quote's customer, share-locked until the transaction ends so an archive cannot
    commit between this check and the transition; 409 when archived (read-only until
    restored: no order is made for it)."""
    customer = await session.get(Customer, quote.customer_id, with_for_update={"read": True})
    if customer is None:  # customers are archived, never deleted
        raise NotFound("customer", quote.customer_id)
    if customer.archived_at is not None:
        raise Conflict(
            f"The quote's customer is archived; restore the customer to {action} the quote.",
            current_status=quote.status,
            allowed=[other for other in LIFECYCLE.allowed(quote.status) if other != action],
            customer_status="archived",
        )
    return customer


async def _require_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.archived_at is not None:
        raise RuleViolation(
            f"There is no active customer {customer_id}.",
            [{"field": "customer_id", "message": "no such active customer"}],
        )
    return customer


async def _require_opportunity(
    session: AsyncSession,
    opportunity_id: uuid.UUID,
    customer_id: uuid.UUID,
    joining: Access | None,
) -> None:
    """The quote's opportunity is the customer's and open; one the quote `joining` now
    must be one the caller may change, since accepting the quote wins it."""
    opportunity = await session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.customer_id != customer_id:
        raise RuleViolation(
            f"The customer has no opportunity {opportunity_id}.",
            [{"field": "opportunity_id", "message": "no such opportunity of this customer"}],
        )
    if joining is not None:
        try:
            joining.for_action("update", "opportunities").require_owner(opportunity.owner_id)
        except Problem as refused:
            raise Problem(
                403,
                "Only the opportunity's owner (or a manager) may quote it: accepting the "
                "quote wins the opportunity.",
                kind="forbidden",
                errors=[
                    {
                        "field": "opportunity_id",
                        "message": "only its owner may quote this opportunity",
                    }
                ],
            ) from refused
    require_open_opportunity(opportunity.stage)


async def _price(
    session: AsyncSession, lines: Sequence[Mapping[str, Any]], currency: str
) -> tuple[list[PricedLine], Totals]:
    skus = {line["sku"] for line in lines}
    products = await session.scalars(select(ProductReplica).where(ProductReplica.sku.in_(skus)))
    catalogue = {
        product.sku: CatalogueItem(
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            unit_price=product.unit_price,
            currency=product.currency,
            tax_rate=product.tax_rate,
            active=product.active,
        )
        for product in products
    }
    return price_lines(lines, catalogue, currency)


def _set_lines(quote: Quote, priced: Sequence[PricedLine], totals: Totals) -> None:
    quote.lines = [
        QuoteLine(
            position=position,
            sku=line.sku,
            product_id=line.product_id,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            tax_rate=line.tax_rate,
            line_net=line.line_net,
            line_tax=line.line_tax,
        )
        for position, line in enumerate(priced, start=1)
    ]
    quote.subtotal = totals.subtotal
    quote.discount_total = totals.discount_total
    quote.tax_total = totals.tax_total
    quote.total = totals.total


def _header(quote: Quote) -> dict[str, Any]:
    """The fields every quote event carries, the version after the change included."""
    return {
        "version": quote.version,
        "quote_id": quote.id,
        "number": quote.number,
        "customer_id": quote.customer_id,
        "opportunity_id": quote.opportunity_id,
        "owner_id": quote.owner_id,
    }


def _totals(quote: Quote) -> dict[str, Any]:
    return {
        "currency": quote.currency,
        "subtotal": quote.subtotal,
        "discount_total": quote.discount_total,
        "tax_total": quote.tax_total,
        "total": quote.total,
    }


def _line_data(line: QuoteLine) -> QuoteLineData:
    return QuoteLineData(
        sku=line.sku,
        product_id=line.product_id,
        name=line.name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_pct=line.discount_pct,
        tax_rate=line.tax_rate,
        line_net=line.line_net,
        line_tax=line.line_tax,
    )


async def _win_opportunity(uow: UnitOfWork, opportunity_id: uuid.UUID, quote_id: uuid.UUID) -> None:
    # Imported here: the pipeline's use cases may look at quotes themselves.
    from crm.service.opportunities import win_for_accepted_quote

    await win_for_accepted_quote(uow, opportunity_id, quote_id)
