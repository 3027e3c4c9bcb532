"""`/warehouses`: where stock is kept; one is the default orders reserve in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import select

from erp.adapters.catalog import Warehouse
from erp.api.deps import UnitOfWorkDep
from erp.service import catalog
from shared_schemas.events.values import Address
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.identity import Access, Authorize

router = APIRouter(prefix="/warehouses", tags=["warehouses"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "warehouses", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("erp", "warehouses", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("erp", "warehouses", "update"))]

EXAMPLE: dict[str, JsonValue] = {
    "code": "BER",
    "name": "Berlin central",
    "address": {"street": "Lagerweg 1", "postal_code": "12345", "city": "Berlin", "country": "DE"},
    "is_default": True,
}


class WarehouseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    address: Address | None = None
    is_default: bool = Field(
        default=False, description="The first warehouse is the default whatever this says."
    )


class WarehouseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Berlin"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: Address | None = None
    active: bool | None = None


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


@router.get("", summary="All warehouses, the default first")
async def list_warehouses(_access: ReadAccess, uow: UnitOfWorkDep) -> list[WarehouseOut]:
    async with uow:
        rows = await uow.session.scalars(
            select(Warehouse).order_by(Warehouse.is_default.desc(), Warehouse.code)
        )
        return [WarehouseOut.model_validate(row) for row in rows]


@router.get("/{warehouse_id}", summary="One warehouse")
async def get_warehouse(
    warehouse_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> WarehouseOut:
    async with uow:
        warehouse = await catalog.get_warehouse(uow.session, warehouse_id)
    set_etag(response, warehouse.version)
    return WarehouseOut.model_validate(warehouse)


@router.patch("/{warehouse_id}", summary="Change a warehouse")
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
