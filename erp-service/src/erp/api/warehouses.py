"""`/warehouses`: where stock is kept; one is the default orders reserve in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import and_, select

from erp.adapters.catalog import Warehouse
from erp.api.deps import UnitOfWorkDep
from erp.service import catalog
from shared_schemas.http.address import PostalAddress
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonBool
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.listing import Listing, SortKey

router = APIRouter(prefix="/warehouses", tags=["warehouses"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "warehouses", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "warehouses", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("erp", "warehouses", "update"))]

LISTING = Listing(
    fields={
        "code": SortKey(Warehouse.code),
        "created_at": SortKey(Warehouse.created_at, datetime),
    },
    id_column=Warehouse.id,
    default="code",
)

EXAMPLE: dict[str, JsonValue] = {
    "code": "BER",
    "name": "Berlin central",
    "address": {"street": "Lagerweg 1", "postal_code": "12345", "city": "Berlin", "country": "DE"},
    "is_default": True,
}


class WarehouseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9_-]+$")
    name: Words = Field(max_length=200)
    address: PostalAddress | None = None
    is_default: JsonBool = Field(
        default=False, description="The first warehouse is the default whatever this says."
    )


class WarehouseUpdate(BaseModel):
    """Fields to change; those left out stay as they are, a null address removes it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Berlin"}]})

    name: Annotated[Words | None, NotNull] = Field(default=None, max_length=200)
    address: PostalAddress | None = None
    active: Annotated[JsonBool | None, NotNull] = None


class WarehouseOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **EXAMPLE,
                    "id": "7a0e6c2f-0e4b-4a36-9d47-5b1f8c9e2d47",
                    "active": True,
                    "version": 1,
                    "created_at": "2026-11-01T08:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    code: str
    name: str
    address: dict[str, object] | None
    is_default: bool
    active: bool
    version: int
    created_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a warehouse")
async def create_warehouse(
    body: WarehouseCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> WarehouseOut:
    values = body.model_dump(mode="json")
    warehouse = await catalog.create_warehouse(uow, values)
    set_etag(response, warehouse.version)
    return WarehouseOut.model_validate(warehouse)


@router.get("", summary="List warehouses")
async def list_warehouses(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None, Query(description="`code` (the default) or `created_at`; `-` descends.")
    ] = None,
    is_default: Annotated[
        bool | None, Query(description="`true`: only the warehouse orders reserve in.")
    ] = None,
    active: bool | None = None,
) -> Page[WarehouseOut]:
    conditions = []
    if is_default is not None:
        conditions.append(Warehouse.is_default.is_(is_default))
    if active is not None:
        conditions.append(Warehouse.active.is_(active))
    query = select(Warehouse).where(and_(*conditions)) if conditions else select(Warehouse)
    async with uow:
        rows = list(await uow.session.scalars(LISTING.apply(query, sort, cursor, limit)))
    page = LISTING.page(rows, limit, sort)
    return Page[WarehouseOut](
        items=[WarehouseOut.model_validate(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.get("/{warehouse_id}", summary="One warehouse")
async def get_warehouse(
    warehouse_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> WarehouseOut:
    async with uow:
        warehouse = await catalog.get_warehouse(uow.session, warehouse_id)
    set_etag(response, warehouse.version)
    return WarehouseOut.model_validate(warehouse)


@router.patch(
    "/{warehouse_id}",
    summary="Change a warehouse (rename, readdress, deactivate)",
    description="`active: false` deactivates it: no receipt, adjustment or transfer touches "
    "it any more. "
    "Refused with 409 for the default warehouse (make another the default first), and "
    "while it holds units on hand or reserved, or open orders (pending, on hold, "
    "backordered, confirmed, partially shipped) wait on it; the problem says how many "
    "(`units_on_hand`, `units_reserved`, `open_orders`).",
    responses={
        404: {"description": "No such warehouse"},
        409: {
            "description": "Deactivating the default warehouse, or one that holds units or "
            "that open orders wait on"
        },
        412: {"description": "If-Match names an older version"},
    },
)
async def update_warehouse(
    warehouse_id: uuid.UUID,
    body: WarehouseUpdate,
    _access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> WarehouseOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    warehouse = await catalog.update_warehouse(
        uow, warehouse_id, changes, expected_version(if_match)
    )
    set_etag(response, warehouse.version)
    return WarehouseOut.model_validate(warehouse)


@router.post("/{warehouse_id}/make-default", summary="Make this the default warehouse")
async def make_default(
    warehouse_id: uuid.UUID, _access: UpdateAccess, uow: UnitOfWorkDep, response: Response
) -> WarehouseOut:
    warehouse = await catalog.make_default(uow, warehouse_id)
    set_etag(response, warehouse.version)
    return WarehouseOut.model_validate(warehouse)
