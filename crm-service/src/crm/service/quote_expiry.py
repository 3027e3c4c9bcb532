"""The expiry sweep: sent quotes past their valid_until become expired, each published once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.adapters.quotes import Quote
from crm.config import Settings
from crm.domain.quotes import EXPIRED, SENT, company_today
from crm.service.unit_of_work import UnitOfWork
from shared_schemas.events.crm.quotes import QuoteExpired
from shared_schemas.messaging import PeriodicJob

EXPIRY_INTERVAL = timedelta(minutes=15)
BATCH_SIZE = 200


async def expire_overdue_quotes(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Expire every sent quote whose valid_until is before `today` (default: today in the
    company's time zone), one short transaction per batch; return how many expired.

    Safe beside accepts: a quote is expired only by an UPDATE that still finds it `sent`,
    and on PostgreSQL rows an accept holds locked are skipped (the next run sees them), so
    a quote accepted meanwhile stays accepted and no quote is published expired twice.
    """
    day = today or company_today(datetime.now(UTC), settings.company.zone)
    overdue = (Quote.status == SENT, Quote.valid_until < day)
    expired = 0
    while True:
        uow = UnitOfWork(sessions, settings)
        async with uow:
            session = uow.session
            ids = list(
                await session.scalars(
                    select(Quote.id)
                    .where(*overdue)
                    .order_by(Quote.valid_until, Quote.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return expired
            now = uow.now()
            rows = await session.execute(
                update(Quote)
                .where(Quote.id.in_(ids), *overdue)
                .values(status=EXPIRED, decided_at=now, updated_at=now, version=Quote.version + 1)
                .returning(
                    Quote.id,
                    Quote.version,
                    Quote.number,
                    Quote.customer_id,
                    Quote.opportunity_id,
                    Quote.owner_id,
                    Quote.valid_until,
                )
                .execution_options(synchronize_session=False)
            )
            for row in rows.all():
                await uow.record(
                    QuoteExpired(
                        quote_id=row.id,
                        version=row.version,
                        number=row.number,
                        customer_id=row.customer_id,
                        opportunity_id=row.opportunity_id,
                        owner_id=row.owner_id,
                        valid_until=row.valid_until,
                    )
                )
                expired += 1
        if len(ids) < batch_size:
            return expired


def periodic_jobs(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> list[PeriodicJob]:
    """The quote jobs for the service's job runner."""
    return [
        PeriodicJob(
            "expire-quotes", EXPIRY_INTERVAL, partial(expire_overdue_quotes, sessions, settings)
        )
    ]
