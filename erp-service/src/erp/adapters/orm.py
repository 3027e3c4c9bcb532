"""The ERP service's MetaData, with the messaging tables attached to it."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from erp.config import SERVICE_NAME
from shared_schemas.database import NAMING_CONVENTION
from shared_schemas.messaging import Outbox, messaging_tables


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging = messaging_tables(Base.metadata)
outbox = Outbox(messaging.outbox, source=SERVICE_NAME)
