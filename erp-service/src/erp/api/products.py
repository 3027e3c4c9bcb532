"""`/products`: what the company sells, priced in the company currency."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import and_, select

from erp.adapters.catalog import Product
from erp.api.deps import UnitOfWorkDep
from erp.service import catalog
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonBool, JsonInt
from shared_schemas.http.lines import Price
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.listing import Listing, SortKey, prefix_match
from shared_schemas.money import Currency, Money, Percent

router = APIRouter(prefix="/products", tags=["products"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "products", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "products", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("erp", "products", "update"))]

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
LISTING = Listing(
    fields={
        "created_at": SortKey(Product.created_at, datetime),
        "name": SortKey(Product.name_key),
        "sku": SortKey(Product.sku),
    },
    id_column=Product.id,
)

EXAMPLE: dict[str, JsonValue] = {
    "sku": "WIDGET-1",
    "name": "Widget",
    "unit_price": "250.00",
    "currency": "EUR",
    "tax_rate": "19",
    "cost": "140.00",
    "reorder_point": 10,
    "active": True,
}


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    sku: Sku
    name: Words = Field(max_length=200)
    unit_price: Price = Field(description="List price per unit, before tax.")
    currency: Currency | None = Field(default=None, description="The company currency.")
    tax_rate: Percent = Field(ge=0, le=100, max_digits=7, decimal_places=4)
    cost: Price = Field(description="Standard cost per unit; stock is valued at it.")
    reorder_point: JsonInt = Field(default=0, ge=0, le=10_000_000)
    active: JsonBool = True


class ProductUpdate(BaseModel):
    """Fields to change; those left out stay as they are. No field may be null: a product
    always has each of them."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"unit_price": "239.90"}]}
    )

    name: Annotated[Words | None, NotNull] = Field(default=None, max_length=200)
    unit_price: Annotated[Price | None, NotNull] = None
    currency: Annotated[Currency | None, NotNull] = None
    tax_rate: Annotated[Percent | None, NotNull] = Field(
        default=None, ge=0, le=100, max_digits=7, decimal_places=4
    )
    cost: Annotated[Price | None, NotNull] = None
    reorder_point: Annotated[JsonInt | None, NotNull] = Field(default=None, ge=0, le=10_000_000)
    active: Annotated[JsonBool | None, NotNull] = None


class ProductOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **EXAMPLE,
                    "id": "5b1f8c9e-2d47-4a36-9a0e-6c2f0e4b7a10",
                    "version": 1,
                    "created_at": "2026-11-01T08:00:00Z",
                    "updated_at": "2026-11-01T08:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    sku: str
    name: str
    unit_price: Money
    currency: str
    tax_rate: Percent
    cost: Money
    reorder_point: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product",
    responses={409: {"description": "The sku exists (`existing_id`)"}},
)
async def create_product(
    body: ProductCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> ProductOut:
    product = await catalog.create_product(uow, body.model_dump())
    set_etag(response, product.version)
    response.headers["Location"] = f"/products/{product.id}"
    return ProductOut.model_validate(product)


@router.get("", summary="List and search products")
async def list_products(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[str | None, Query(description="`name`, `sku`, `created_at`.")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Name prefix.")
    ] = None,
    sku: Annotated[list[str] | None, Query(max_length=50)] = None,
    active: bool | None = None,
) -> Page[ProductOut]:
    conditions = []
    if q:
        conditions.append(prefix_match(Product.name_key, q))
    if sku:
        conditions.append(Product.sku.in_(sku))
    if active is not None:
        conditions.append(Product.active.is_(active))
    query = select(Product).where(and_(*conditions)) if conditions else select(Product)
    async with uow:
        rows = list(await uow.session.scalars(LISTING.apply(query, sort, cursor, limit)))
    page = LISTING.page(rows, limit, sort)
    return Page[ProductOut](
        items=[ProductOut.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.get("/{product_id}", summary="One product")
async def get_product(
    product_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> ProductOut:
    async with uow:
        product = await catalog.get_product(uow.session, product_id)
    set_etag(response, product.version)
    return ProductOut.model_validate(product)


@router.patch("/{product_id}", summary="Change (reprice, rename, deactivate) a product")
async def update_product(
    product_id: uuid.UUID,
    body: ProductUpdate,
    _access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProductOut:
    product = await catalog.update_product(
        uow, product_id, body.model_dump(exclude_unset=True), expected_version(if_match)
    )
    set_etag(response, product.version)
    return ProductOut.model_validate(product)
