"""Tables of customers, their contacts, tags and custom fields."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.adapters.orm import Base, Record
from shared_schemas.database import MONEY, UtcDateTime
from shared_schemas.listing import SearchKey


class Customer(Record, Base):
    __tablename__ = "customers"

    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SearchKey)
    # Name as duplicate detection compares it (case, accents, legal form ignored).
    name_match: Mapped[str] = mapped_column(SearchKey)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(SearchKey)
    phone: Mapped[str | None] = mapped_column(String(50))
    industry: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # What ERP reported about the customer (kept by the consumer, never by users).
    open_balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    lifetime_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    last_order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_order_number: Mapped[str | None] = mapped_column(String(40))
    last_order_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="raise"
    )

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_customers_created", "created_at", "id"),
        Index("ix_customers_name", "name_key", "id"),
        Index("ix_customers_email", "email_key", "id"),
        Index("ix_customers_match", "name_match"),
        Index("ix_customers_owner", "owner_id", "created_at", "id"),
        Index("ix_customers_updated", "updated_at", "id"),
    )


class Contact(Record, Base):
    __tablename__ = "contacts"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SearchKey)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(SearchKey)
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts", lazy="raise")

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_contacts_customer", "customer_id", "name_key", "id"),
        Index("ix_contacts_email", "email_key"),
    )


class CustomerTag(Base):
    """One row per tag of a customer, so a tag filter is an index lookup."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(SearchKey, primary_key=True)

    __table_args__ = (Index("ix_customer_tags_tag", "tag", "customer_id"),)


class CustomFieldDefinition(Record, Base):
    """A custom field customers may carry: its key, type and rules."""

    __tablename__ = "custom_field_definitions"

    entity: Mapped[str] = mapped_column(String(30), default="customer")
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))  # text | number | date | boolean | select
    options: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (Index("uq_custom_field_definitions_key", "entity", "key", unique=True),)


class CustomFieldValue(Base):
    """A customer's value of one custom field, typed, so it can be filtered by index."""

    __tablename__ = "custom_field_values"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_text: Mapped[str | None] = mapped_column(SearchKey)
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    value_date: Mapped[date | None] = mapped_column(Date)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_custom_field_values_text", "key", "value_text"),
        Index("ix_custom_field_values_number", "key", "value_number"),
        Index("ix_custom_field_values_date", "key", "value_date"),
    )
