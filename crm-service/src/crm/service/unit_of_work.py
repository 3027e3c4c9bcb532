"""The CRM's unit of work: the shared one, writing to the CRM's outbox."""

from __future__ import annotations

from crm.adapters.orm import outbox
from crm.config import Settings
from shared_schemas import unit_of_work


class UnitOfWork(unit_of_work.UnitOfWork[Settings]):
    outbox = outbox
