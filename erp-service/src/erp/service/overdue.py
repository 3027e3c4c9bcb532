"""The overdue sweep: each invoice with something due past its due date is announced
(erp.invoice.overdue.v1) once, by the service's hourly job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from erp.adapters.finance import Invoice
from erp.config import Settings
from erp.domain.invoicing import days_overdue
from erp.service.invoices import invoice_header, overdue_on
from erp.service.unit_of_work import UnitOfWork
from shared_schemas.events.erp.invoices import InvoiceOverdue
from shared_schemas.messaging import PeriodicJob

OVERDUE_SWEEP_INTERVAL = timedelta(hours=1)
SWEEP_BATCH = 200


async def announce_overdue(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, today: date | None = None
) -> int:
    """Publish erp.invoice.overdue.v1 once for each invoice with something due past its
    due date (in the company's time zone), in short transactions; return how many were announced.
    Rows a payment holds locked are skipped on PostgreSQL: the next run sees them."""
    day = today or datetime.now(UTC).astimezone(settings.company.zone).date()
    pending = (overdue_on(day), Invoice.overdue_notified_on.is_(None))
    announced = 0
    while True:
        uow = UnitOfWork(sessions, settings)
        async with uow:
            invoices = list(
                await uow.session.scalars(
                    select(Invoice)
                    .where(*pending)
                    .order_by(Invoice.due_date, Invoice.id)
                    .limit(SWEEP_BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for invoice in invoices:
                # Not a change of the invoice (no new version): a fact about the calendar.
                await uow.session.execute(
                    update(Invoice)
                    .where(Invoice.id == invoice.id)
                    .values(overdue_notified_on=day)
                    .execution_options(synchronize_session=False)
                )
                await uow.record(
                    InvoiceOverdue(
                        **invoice_header(invoice),
                        due_date=invoice.due_date,
                        days_overdue=days_overdue(invoice.due_date, day),
                    )
                )
            announced += len(invoices)
        if len(invoices) < SWEEP_BATCH:
            return announced


def periodic_jobs(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> list[PeriodicJob]:
    """The invoice jobs of the service's job runner. Hourly, so a day's overdue invoices
    are announced within the hour after midnight in the company's time zone; each once."""
    return [
        PeriodicJob(
            "announce-overdue-invoices",
            OVERDUE_SWEEP_INTERVAL,
            partial(announce_overdue, sessions, settings),
        )
    ]
