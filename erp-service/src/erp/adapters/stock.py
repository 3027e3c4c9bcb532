"""Tables of stock: the append-only movement ledger and the levels it adds up to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from erp.adapters.orm import Base, utcnow
from shared_schemas.database import UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class StockLevel(Base):
    """On hand and reserved units of one product in one warehouse; available = difference.

    The CHECK constraints are the last line of defence: no transaction can commit stock
    below zero or reservations above what is on hand, whatever the code above does.
    """

    __tablename__ = "stock_levels"

    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id"), primary_key=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("warehouses.id"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change; the version of erp.stock.* events.
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_levels_sku", "sku", "warehouse_id"),
        Index("ix_stock_levels_warehouse", "warehouse_id", "sku"),
    )


class StockMovement(Base):
    """One change of a stock level, never updated or deleted. Each row says how it moved
    on_hand and reserved; a level is the sum of its movements."""

    __tablename__ = "stock_movements"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    # receipt | adjustment | transfer_out | transfer_in | reservation | release | shipment
    kind: Mapped[str] = mapped_column(String(20))
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("warehouses.id"))
    on_hand_delta: Mapped[int] = mapped_column(Integer)
    reserved_delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    # What caused it: the transfer both halves share, the order, the shipment.
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_stock_movements_level", "product_id", "warehouse_id", "seq"),
        Index("ix_stock_movements_order", "order_id"),
        Index("ix_stock_movements_created", "created_at", "seq"),
    )
