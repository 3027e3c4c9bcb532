"""Use cases of invoices: one issued for each shipment (exactly once), settled at once when
it asks for nothing, voided while unpaid, found and listed. The sweep announcing overdue
ones is in erp.service.overdue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from erp.adapters.finance import Invoice, InvoiceLine
from erp.adapters.orm import document_sequences
from erp.adapters.replicas import CustomerReplica
from erp.adapters.sales import Order, OrderLine, Shipment
from erp.domain.invoicing import (
    ISSUED,
    LIFECYCLE,
    UNPAID,
    OrderLinePart,
    billed_amounts,
    due_date,
    is_overdue,
    status_after_payment,
)
from erp.domain.ledger import RECEIVABLES, REVENUE_ACCOUNT, TAX_PAYABLE, Posting, without_zero_lines
from erp.service import ledger
from erp.service.catalog import check_version
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.domain import NotFound
from shared_schemas.events.documents import InvoiceLine as InvoiceLineData
from shared_schemas.events.erp.invoices import (
    InvoiceIssued,
    InvoicePaid,
    InvoiceVoided,
)
from shared_schemas.http.pagination import Page
from shared_schemas.listing import Listing, SortKey, number_prefix_match
from shared_schemas.money import ZERO, document_totals
from shared_schemas.numbering import next_number

INVOICE = "invoice"
INVOICE_VOID = "invoice_void"

# Invoices of one day (or due on one day) read in the order they were numbered, as an
# invoice register does, never in the order of their random ids.
LISTING = Listing(
    fields={
        "created_at": SortKey(Invoice.created_at, datetime),
        "issued_on": SortKey(Invoice.issued_on, date),
        "due_date": SortKey(Invoice.due_date, date),
        "number": SortKey(Invoice.number),
        "total": SortKey(Invoice.total, Decimal),
    },
    id_column=Invoice.number,
    id_kind=str,
    id_attribute="number",
)

NO_PAYMENT = uuid.UUID(int=0)
"""The `payment_id` of erp.invoice.paid.v1 for an invoice of nothing, which no payment
settled: the nil UUID, since the v1 contract requires an id."""


def amount_due(invoice: Invoice) -> Decimal:
    return ZERO if invoice.status not in UNPAID else invoice.total - invoice.amount_paid


def overdue(invoice: Invoice, today: date) -> bool:
    return is_overdue(invoice.status, amount_due(invoice), invoice.due_date, today)


def overdue_on(today: date) -> ColumnElement[bool]:
    """`is_overdue` in SQL: unpaid, something still due, past the due date."""
    return and_(
        Invoice.status.in_(UNPAID),
        Invoice.total > Invoice.amount_paid,
        Invoice.due_date < today,
    )


def invoice_header(invoice: Invoice) -> dict[str, Any]:
    """What every invoice and payment event carries: the invoice and its balance after."""
    return {
        "version": invoice.version,
        "invoice_id": invoice.id,
        "number": invoice.number,
        "order_id": invoice.order_id,
        "quote_id": invoice.quote_id,
        "customer_id": invoice.customer_id,
        "status": invoice.status,
        "currency": invoice.currency,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "amount_due": amount_due(invoice),
    }


async def issue_for_shipment(uow: UnitOfWork, shipment_id: uuid.UUID) -> Invoice | None:
    """The invoice of a shipment, `INV-<year>-<seq>` without gaps: the shipped units of
    each order line, billed as `billed_amounts` says; dated the day the goods left, due
    after the customer's payment terms. Posts Dr receivables (total) / Cr revenue (net) /
    Cr tax payable (tax) and publishes erp.invoice.issued.v1. An invoice of nothing (every
    line given away or priced 0) is paid as it is issued, in the same transaction.

    None when the shipment is invoiced already: a shipment gets one invoice, however
    often its event arrives. Two copies handled at once queue on the order's lock, and the
    second sees the first's invoice once it has the lock (the unique shipment_id is the
    last line of defence)."""
    async with uow:
        session = uow.session
        if await _invoiced_already(session, shipment_id):
            return None
        shipment = await session.get(Shipment, shipment_id, options=[selectinload(Shipment.lines)])
        if shipment is None:
            raise NotFound("shipment", shipment_id)
        # The order's row before its lines: the order shipments take them in.
        order = await session.get(
            Order, shipment.order_id, with_for_update=True, populate_existing=True
        )
        assert order is not None  # a shipment's order is never deleted
        # Checked again under the lock: a copy of the event handled meanwhile has committed.
        if await _invoiced_already(session, shipment_id):
            return None
        order_lines = {
            line.id: line
            for line in await session.scalars(
                select(OrderLine)
                .where(OrderLine.order_id == order.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        lines = []
        for position, shipped in enumerate(shipment.lines, start=1):
            line = order_lines[shipped.order_line_id]
            net, tax = billed_amounts(_part(line), shipped.quantity)
            line.quantity_invoiced += shipped.quantity
            line.net_invoiced += net
            line.tax_invoiced += tax
            lines.append(
                InvoiceLine(
                    position=position,
                    order_line_id=line.id,
                    product_id=line.product_id,
                    sku=line.sku,
                    name=line.name,
                    quantity=shipped.quantity,
                    unit_price=line.unit_price,
                    discount_pct=line.discount_pct,
                    tax_rate=line.tax_rate,
                    line_net=net,
                    line_tax=tax,
                )
            )
        totals = document_totals((i.quantity, i.unit_price, i.line_net, i.line_tax) for i in lines)
        issued_on = shipment.shipped_at.astimezone(uow.settings.company.zone).date()
        terms = await _payment_terms(session, order, uow.settings.company.payment_terms_days)
        invoice = Invoice(
            id=uuid.uuid4(),
            number=await next_number(session, document_sequences, "INV", issued_on.year),
            order_id=order.id,
            shipment_id=shipment.id,
            quote_id=order.quote_id,
            customer_id=order.customer_id,
            customer_name=str(order.customer_snapshot.get("name") or ""),
            status=ISSUED,
            currency=order.currency,
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            amount_paid=ZERO,
            issued_on=issued_on,
            due_date=due_date(issued_on, terms),
            created_by=uow.actor,
            lines=lines,
        )
        session.add(invoice)
        # Core UPDATE: invoicing is no change of the order its version should count.
        await session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(invoiced_total=Order.invoiced_total + totals.total)
            .execution_options(synchronize_session=False)
        )
        if totals.total:
            await _post_invoice(uow, invoice, shipment.number)
        await session.flush()
        await uow.record(
            InvoiceIssued(
                **invoice_header(invoice),
                subtotal=invoice.subtotal,
                discount_total=invoice.discount_total,
                tax_total=invoice.tax_total,
                shipment_id=shipment.id,
                issued_on=invoice.issued_on,
                due_date=invoice.due_date,
                lines=[_line_data(line) for line in lines],
            )
        )
        if not totals.total:
            await _settle_nothing_due(uow, invoice)
    return invoice


async def _settle_nothing_due(uow: UnitOfWork, invoice: Invoice) -> None:
    """An invoice that asks for nothing is paid on its day of issue: never open, overdue
    or in the aging, and voided no more than any paid invoice. Paid under a version of its
    own, after the issue's, so a subscriber's replica takes the paid state."""
    invoice.status = status_after_payment(invoice.status, amount_due(invoice))
    await uow.session.flush()
    await uow.record(
        InvoicePaid(**invoice_header(invoice), payment_id=NO_PAYMENT, paid_on=invoice.issued_on)
    )


async def void_invoice(
    uow: UnitOfWork, invoice_id: uuid.UUID, reason: str | None, expected_version: int | None
) -> Invoice:
    """Void an invoice nothing was paid on: its entry is reversed (never the cost of the
    goods, which did leave), dated today or, for an invoice dated ahead, its day of issue;
    the order's invoiced_total no longer counts it, and erp.invoice.voided.v1 is published. 409
    naming what the invoice may do otherwise."""
    async with uow:
        session = uow.session
        invoice = await _locked(session, invoice_id)
        check_version(invoice.version, expected_version)
        invoice.status = LIFECYCLE.next(invoice.status, "void")
        invoice.void_reason = reason
        invoice.voided_at = uow.now()
        # The order lines keep the voided part as billed: its goods are not billed again,
        # and the part that completes a line still takes exactly what remains of it.
        await session.execute(
            update(Order)
            .where(Order.id == invoice.order_id)
            .values(invoiced_total=Order.invoiced_total - invoice.total)
            .execution_options(synchronize_session=False)
        )
        posted = await ledger.posted_entry(session, INVOICE, invoice.id)
        if posted is not None:
            await ledger.reverse_in(
                uow,
                posted,
                source_type=INVOICE_VOID,
                source_id=invoice.id,
                entry_date=max(ledger.today(uow), invoice.issued_on),
            )
        await session.flush()
        await uow.record(InvoiceVoided(**invoice_header(invoice), reason=reason))
    return invoice


async def get_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    invoice = await session.get(Invoice, invoice_id, options=[selectinload(Invoice.lines)])
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    return invoice


async def _locked(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    invoice = await session.get(
        Invoice,
        invoice_id,
        options=[selectinload(Invoice.lines)],
        with_for_update=True,
        populate_existing=True,
    )
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    return invoice


@dataclass(frozen=True)
class InvoiceFilters:
    statuses: list[str]
    customer_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    # With `today`: only invoices overdue (True) or not overdue (False) that day.
    overdue: bool | None = None
    today: date | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # Days, both ends included.
    issued_from: date | None = None
    issued_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    q: str | None = None


async def list_invoices(
    session: AsyncSession, filters: InvoiceFilters, sort: str | None, cursor: str | None, limit: int
) -> Page[Invoice]:
    query = _filtered(select(Invoice).options(selectinload(Invoice.lines)), filters)
    rows = list(await session.scalars(LISTING.apply(query, sort, cursor, limit)))
    return LISTING.page(rows, limit, sort)


def _filtered(query: Select[Any], filters: InvoiceFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Invoice.status.in_(filters.statuses))
    if filters.customer_id:
        conditions.append(Invoice.customer_id == filters.customer_id)
    if filters.order_id:
        conditions.append(Invoice.order_id == filters.order_id)
    if filters.quote_id:
        conditions.append(Invoice.quote_id == filters.quote_id)
    if filters.overdue is not None and filters.today is not None:
        late = overdue_on(filters.today)
        conditions.append(late if filters.overdue else not_(late))
    if filters.created_from:
        conditions.append(Invoice.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Invoice.created_at < filters.created_to)
    if filters.issued_from:
        conditions.append(Invoice.issued_on >= filters.issued_from)
    if filters.issued_to:
        conditions.append(Invoice.issued_on <= filters.issued_to)
    if filters.due_from:
        conditions.append(Invoice.due_date >= filters.due_from)
    if filters.due_to:
        conditions.append(Invoice.due_date <= filters.due_to)
    if filters.q:
        conditions.append(number_prefix_match(Invoice.number, filters.q))
    return query.where(and_(*conditions)) if conditions else query


async def _post_invoice(uow: UnitOfWork, invoice: Invoice, shipment_number: str) -> None:
    """Dr receivables (total) / Cr revenue (net) / Cr tax payable (tax), dated the day of
    issue."""
    await ledger.post_entry(
        uow,
        without_zero_lines(
            [
                Posting.dr(RECEIVABLES, invoice.total),
                Posting.cr(REVENUE_ACCOUNT, invoice.total - invoice.tax_total),
                Posting.cr(TAX_PAYABLE, invoice.tax_total),
            ]
        ),
        source_type=INVOICE,
        source_id=invoice.id,
        reference=invoice.number,
        memo=f"Invoice {invoice.number} for shipment {shipment_number}",
        entry_date=invoice.issued_on,
    )


async def _invoiced_already(session: AsyncSession, shipment_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Invoice.id).where(Invoice.shipment_id == shipment_id))
    return found is not None


async def _payment_terms(session: AsyncSession, order: Order, company_default: int) -> int:
    """The customer's payment terms as ERP knows them now: the replica, else the order's
    snapshot, else the company's default (`COMPANY_PAYMENT_TERMS_DAYS`)."""
    terms = await session.scalar(
        select(CustomerReplica.payment_terms_days).where(CustomerReplica.id == order.customer_id)
    )
    if terms is None:
        terms = order.customer_snapshot.get("payment_terms_days")
    return int(terms) if terms is not None else company_default


def _part(line: OrderLine) -> OrderLinePart:
    return OrderLinePart(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_pct=line.discount_pct,
        tax_rate=line.tax_rate,
        line_net=line.line_net,
        line_tax=line.line_tax,
        quantity_invoiced=line.quantity_invoiced,
        net_invoiced=line.net_invoiced,
        tax_invoiced=line.tax_invoiced,
    )


def _line_data(line: InvoiceLine) -> InvoiceLineData:
    return InvoiceLineData(
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
