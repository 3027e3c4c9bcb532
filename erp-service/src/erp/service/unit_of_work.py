"""The ERP's unit of work: the shared one, writing to the ERP's outbox."""

from __future__ import annotations

from erp.adapters.orm import outbox
from erp.config import Settings
from shared_schemas import unit_of_work


class UnitOfWork(unit_of_work.UnitOfWork[Settings]):
    outbox = outbox
