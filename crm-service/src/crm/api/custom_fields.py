"""`/custom-fields`: the custom fields customers may carry, with their types and rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm.api.deps import UnitOfWorkDep
from crm.service import custom_fields
from shared_schemas.http.concurrency import set_etag
from shared_schemas.http.json_types import JsonBool
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.listing import normalise

router = APIRouter(prefix="/custom-fields", tags=["custom fields"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "custom-fields", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "custom-fields", "create"))]

FieldType = Literal["text", "number", "date", "boolean", "select"]


class CustomFieldCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "segment",
                    "label": "Segment",
                    "type": "select",
                    "options": ["smb", "mid-market", "enterprise"],
                    "required": False,
                }
            ]
        },
    )

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Used in `custom_fields`.")
    label: Words = Field(max_length=200)
    type: FieldType
    options: list[Annotated[Words, Field(max_length=100)]] | None = Field(
        default=None, max_length=200, description="The allowed values of a `select` field."
    )
    required: JsonBool = False
    description: str | None = Field(default=None, max_length=1000)

    @field_validator("options")
    @classmethod
    def _options_tell_apart(cls, options: list[str] | None) -> list[str] | None:
        # `cf.<key>=` compares values folded, as every search does: options equal but for
        # case would be one filter value.
        folded = [normalise(option) for option in options or []]
        if len(set(folded)) != len(folded):
            raise ValueError("options must differ from each other, ignoring case")
        return options

    @model_validator(mode="after")
    def _options_for_select_only(self) -> CustomFieldCreate:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs options")
        if self.type != "select" and self.options:
            raise ValueError("only select fields have options")
        if self.type != "select":
            self.options = None  # an empty list sent with a text field: none, as read
        return self


class CustomFieldOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "4f1e2d3c-5b6a-4978-8e9f-0a1b2c3d4e5f",
                    "key": "segment",
                    "label": "Segment",
                    "type": "select",
                    "options": ["smb", "mid-market", "enterprise"],
                    "required": False,
                    "description": None,
                    "version": 1,
                    "created_at": "2026-10-01T12:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    key: str
    label: str
    type: FieldType
    options: list[str] | None
    required: bool
    description: str | None
    version: int
    created_at: datetime


@router.get("", summary="The custom fields of customers")
async def list_custom_fields(_access: ReadAccess, uow: UnitOfWorkDep) -> list[CustomFieldOut]:
    async with uow:
        rows = await custom_fields.list_definitions(uow.session)
    return [CustomFieldOut.model_validate(row) for row in rows]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Define a custom field",
    responses={409: {"description": "A field with this key exists"}},
)
async def create_custom_field(
    body: CustomFieldCreate, _access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> CustomFieldOut:
    definition = await custom_fields.define(uow, body.model_dump())
    set_etag(response, definition.version)
    return CustomFieldOut.model_validate(definition)
