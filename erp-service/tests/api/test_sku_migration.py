"""Migration 0008 makes skus unique whatever their case: products kept before it get their
sku's key, and skus that already differ only in case stop the upgrade, named, rather than
one of them being dropped or the index failing without saying why (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from tests.support.harness import execute
from tests.support.harness import upgrade as upgrade_service

pytestmark = pytest.mark.api


async def upgrade(database_url: str, revision: str) -> None:
    await upgrade_service("erp-service", database_url, revision)


async def add_product(database_url: str, sku: str) -> None:
    """A product as the service stored it before 0008."""
    now = datetime.now(UTC)
    product_id = uuid.uuid4()
    await execute(
        database_url,
        "INSERT INTO products (id, sku, name, name_key, unit_price, currency, tax_rate, cost, "
        "reorder_point, active, version, created_at, updated_at) VALUES (:id, :sku, 'Widget', "
        "'widget', 10, 'EUR', 19, 6, 0, true, 1, :now, :now)",
        id=product_id.hex if database_url.startswith("sqlite") else product_id,
        sku=sku,
        now=now,
    )


async def test_products_kept_before_get_their_key_and_case_twins_stop_the_upgrade(
    database_url: str,
) -> None:
    await upgrade(database_url, "0007")
    for sku in ("WIDGET-1", "widget-1", "Widget-1", "GADGET-2"):
        await add_product(database_url, sku)

    with pytest.raises(RuntimeError, match=re.escape("WIDGET-1, Widget-1, widget-1. Rename")):
        await upgrade(database_url, "head")

    # Renamed by their owner, the upgrade goes through and keys every product.
    await execute(database_url, "UPDATE products SET sku = 'WIDGET-1-OLD' WHERE sku = 'widget-1'")
    await execute(database_url, "UPDATE products SET sku = 'WIDGET-1-B' WHERE sku = 'Widget-1'")
    await upgrade(database_url, "head")
    rows = await execute(database_url, "SELECT sku, sku_key FROM products ORDER BY sku")
    assert rows == [
        ("GADGET-2", "gadget-2"),
        ("WIDGET-1", "widget-1"),
        ("WIDGET-1-B", "widget-1-b"),
        ("WIDGET-1-OLD", "widget-1-old"),
    ]
    with pytest.raises(IntegrityError, match="sku_key"):
        await execute(
            database_url, "UPDATE products SET sku_key = 'widget-1' WHERE sku = 'WIDGET-1-B'"
        )
