"""Tables of sales orders, their lines, and shipments."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.adapters.orm import Base, Record
from shared_schemas.database import MONEY, RATE, UtcDateTime
from shared_schemas.listing import SearchKey


class Order(Record, Base):
    __tablename__ = "orders"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # At most one order per quote, whatever the redeliveries of its event.
    quote_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount_total: Mapped[Decimal] = mapped_column(MONEY)
    tax_total: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    # Filled by invoicing (ERP part 2): what of the total was invoiced so far.
    invoiced_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("warehouses.id"))
    # The customer as the order was taken (addresses, terms): the quote's snapshot or the
    # replica's state; invoices and shipments read it.
    customer_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderLine.position",
        lazy="raise",
    )

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_status", "status", "created_at", "id"),
        Index("ix_orders_customer", "customer_id", "created_at", "id"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount_pct: Mapped[Decimal] = mapped_column(RATE)
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    line_net: Mapped[Decimal] = mapped_column(MONEY)
    line_tax: Mapped[Decimal] = mapped_column(MONEY)
    quantity_reserved: Mapped[int] = mapped_column(Integer, default=0)
    quantity_shipped: Mapped[int] = mapped_column(Integer, default=0)
    # What of the line non-void invoices bill so far: the last invoice of a line takes
    # what remains of line_net and line_tax, so an order's invoices add up to it.
    quantity_invoiced: Mapped[int] = mapped_column(Integer, default=0)
    net_invoiced: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    tax_invoiced: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")

    __table_args__ = (
        Index("ix_order_lines_order", "order_id", "position"),
        Index("ix_order_lines_sku", "sku", "order_id"),
    )


class Shipment(Record, Base):
    __tablename__ = "shipments"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("warehouses.id"))
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    # `normalise(tracking_number)`: what `q` is a prefix of.
    tracking_key: Mapped[str | None] = mapped_column(SearchKey)
    shipped_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))

    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", lazy="raise"
    )

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_shipments_order", "order_id", "shipped_at"),
        # Keyset lists of all shipments, sorted by either time.
        Index("ix_shipments_created", "created_at", "id"),
        Index("ix_shipments_shipped", "shipped_at", "id"),
        Index("ix_shipments_tracking", "tracking_key", "id"),
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    shipment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shipments.id", ondelete="CASCADE")
    )
    order_line_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("order_lines.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines", lazy="raise")

    __table_args__ = (Index("ix_shipment_lines_shipment", "shipment_id"),)
