"""Tables of products and warehouses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from erp.adapters.orm import Base, Record
from shared_schemas.database import MONEY, RATE
from shared_schemas.listing import SearchKey


def sku_key(sku: str) -> str:
    """A sku as its uniqueness sees it: `WIDGET-1` and `widget-1` are one sku (skus are
    ASCII, so SQL's lower() agrees)."""
    return sku.lower()


class Product(Record, Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    # `sku_key(sku)`: unique, so no two products' skus differ only in case.
    sku_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SearchKey)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    # Standard cost per unit: stock is valued at it.
    cost: Mapped[Decimal] = mapped_column(MONEY)
    reorder_point: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        Index("ix_products_created", "created_at", "id"),
        Index("ix_products_name", "name_key", "id"),
    )


class Warehouse(Record, Base):
    __tablename__ = "warehouses"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        # At most one default warehouse, whatever two requests do at once.
        Index(
            "uq_warehouses_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )
