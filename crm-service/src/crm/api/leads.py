"""`/leads`: prospects before they are customers, and their conversion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, JsonValue, model_validator

from crm.adapters.pipeline import Lead
from crm.api.customers import Phone, Tag
from crm.api.deps import UnitOfWorkDep
from crm.service import leads
from shared_schemas.http.address import PostalAddress
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import Day, JsonInt
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Currency, Money
from shared_schemas.pricing import MAX_AMOUNT

router = APIRouter(prefix="/leads", tags=["leads"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "leads", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "leads", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "leads", "update"))]
ContactAccess = Annotated[Access, Depends(Authorize("crm", "leads", "contact"))]
QualifyAccess = Annotated[Access, Depends(Authorize("crm", "leads", "qualify"))]
DisqualifyAccess = Annotated[Access, Depends(Authorize("crm", "leads", "disqualify"))]
ConvertAccess = Annotated[Access, Depends(Authorize("crm", "leads", "convert"))]

LeadStatus = Literal["new", "contacted", "qualified", "converted", "disqualified"]
Name = Annotated[Words, Field(max_length=200)]
Source = Annotated[Words, Field(max_length=50, examples=["web"])]
Notes = Annotated[str, Field(max_length=10_000)]


class LeadCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Jana Novak",
                    "company_name": "Novak Bau GmbH",
                    "email": "jana@novak-bau.example",
                    "phone": "+49 89 5550101",
                    "source": "web",
                    "notes": "Asked for a quote on 40 units.",
                }
            ]
        },
    )

    name: Name = Field(description="The person the lead is about.")
    company_name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    source: Source | None = Field(default=None, description="Where it came from.")
    notes: Notes | None = None
    owner_id: uuid.UUID | None = Field(
        default=None, description="The owning sales rep; defaults to you if you may own it."
    )


class LeadUpdate(BaseModel):
    """Fields to change; those left out stay as they are and null removes any but `name`
    (a 422). The status changes through the transition routes, never here."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "+49 89 5550199"}]}
    )

    name: Annotated[Name | None, NotNull] = None
    company_name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    source: Source | None = None
    notes: Notes | None = None
    owner_id: uuid.UUID | None = None


class LeadOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5d1c3e1a-8a7e-4a0e-9a53-0c6a4f3b2d10",
                    "name": "Jana Novak",
                    "company_name": "Novak Bau GmbH",
                    "email": "jana@novak-bau.example",
                    "phone": "+49 89 5550101",
                    "source": "web",
                    "notes": None,
                    "status": "converted",
                    "disqualification_reason": None,
                    "owner_id": "d0000000-0000-4000-8000-000000000002",
                    "customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "opportunity_id": "7e0d8a44-0f4b-4f0e-8a4c-1b2c3d4e5f60",
                    "converted_at": "2026-11-20T14:05:00Z",
                    "version": 3,
                    "created_at": "2026-11-02T09:30:00Z",
                    "updated_at": "2026-11-20T14:05:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    company_name: str | None
    email: str | None
    phone: str | None
    source: str | None
    notes: str | None
    status: LeadStatus
    disqualification_reason: str | None
    owner_id: uuid.UUID | None
    customer_id: uuid.UUID | None = Field(description="The customer it became (converted).")
    opportunity_id: uuid.UUID | None = Field(description="The opportunity its conversion opened.")
    converted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class Disqualification(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "No budget this year"}]}
    )

    reason: Words = Field(max_length=500)


class ConversionCustomer(BaseModel):
    """The new customer's fields; each one left out comes from the lead (its company, else
    the person, with the lead's email and phone, owned by the lead's owner). With
    `kind: person` and no `name`, the customer is the lead's person, company or not."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["company", "person"] | None = None
    name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    industry: str | None = Field(default=None, max_length=100)
    owner_id: uuid.UUID | None = None
    credit_limit: Money | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    payment_terms_days: JsonInt | None = Field(default=None, ge=0, le=365)
    billing_address: PostalAddress | None = None
    shipping_address: PostalAddress | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, JsonValue] = Field(default_factory=dict, max_length=100)


class ConversionOpportunity(BaseModel):
    """The opportunity to open for the customer, owned by the lead's owner."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    amount: Money = Field(ge=0, le=MAX_AMOUNT)
    currency: Currency | None = Field(default=None, description="The company currency.")
    expected_close_date: Day | None = None


class LeadConversion(BaseModel):
    """Link an existing customer (`customer_id`) or create one (`customer`, or nothing to
    build it from the lead), and optionally open an opportunity for it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer": {
                        "billing_address": {
                            "street": "Isarweg 2",
                            "city": "München",
                            "country": "DE",
                        }
                    },
                    "opportunity": {
                        "name": "Novak Bau: 40 units",
                        "amount": "12000.00",
                        "currency": "EUR",
                        "expected_close_date": "2026-12-15",
                    },
                },
                {"customer_id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11"},
            ]
        },
    )

    customer_id: uuid.UUID | None = Field(default=None, description="An active customer.")
    customer: ConversionCustomer | None = None
    opportunity: ConversionOpportunity | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> Self:
        if self.customer_id is not None and self.customer is not None:
            raise ValueError("give customer_id to link a customer or customer to create one")
        return self


def _respond(response: Response, lead: Lead) -> LeadOut:
    set_etag(response, lead.version)
    return LeadOut.model_validate(lead)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Capture a lead",
    responses={403: {"description": "A field your role may not set (named in `errors`)"}},
)
async def create_lead(
    body: LeadCreate, access: CreateAccess, uow: UnitOfWorkDep, response: Response
) -> LeadOut:
    lead = await leads.create_lead(uow, access, body.model_dump(exclude_unset=True))
    response.headers["Location"] = f"/leads/{lead.id}"
    return _respond(response, lead)


@router.get("", summary="List and search leads")
async def list_leads(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[
        str | None,
        Query(
            description="`created_at` (default `-created_at`), `name`, `updated_at` (last "
            "change); prefix `-` for descending. Equal values in the order of their ids."
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Prefix of the name, company or email."),
    ] = None,
    status_: Annotated[list[LeadStatus] | None, Query(alias="status")] = None,
    owner_id: Annotated[list[uuid.UUID] | None, Query()] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    source: Annotated[
        list[Source] | None,
        Query(description="Leads from this source, exactly as written (may repeat)."),
    ] = None,
) -> Page[LeadOut]:
    filters = leads.LeadFilters(
        q=q,
        statuses=list(status_ or []),
        owner_ids=owner_id or [],
        created_from=created_from,
        created_to=created_to,
        sources=list(source or []),
    )
    async with uow:
        page = await leads.list_leads(uow.session, filters, sort, cursor, limit)
    return Page[LeadOut](
        items=[LeadOut.model_validate(lead) for lead in page.items], next_cursor=page.next_cursor
    )


@router.get("/{lead_id}", summary="One lead")
async def get_lead(
    lead_id: uuid.UUID, _access: ReadAccess, uow: UnitOfWorkDep, response: Response
) -> LeadOut:
    async with uow:
        lead = await leads.get_lead(uow.session, lead_id)
    return _respond(response, lead)


@router.patch(
    "/{lead_id}",
    summary="Change a lead",
    responses={
        409: {"description": "The lead is converted or disqualified: final"},
        412: {"description": "If-Match names an older version"},
    },
)
async def update_lead(
    lead_id: uuid.UUID,
    body: LeadUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> LeadOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    lead = await leads.update_lead(uow, access, lead_id, changes, expected_version(if_match))
    return _respond(response, lead)


@router.post(
    "/{lead_id}/contact",
    summary="Record the first contact (new → contacted)",
    responses={409: {"description": "Not allowed from the current status"}},
)
async def contact_lead(
    lead_id: uuid.UUID,
    access: ContactAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> LeadOut:
    lead = await leads.contact_lead(uow, access, lead_id, expected_version(if_match))
    return _respond(response, lead)


@router.post(
    "/{lead_id}/qualify",
    summary="Qualify a lead (new or contacted → qualified)",
    responses={409: {"description": "Not allowed from the current status"}},
)
async def qualify_lead(
    lead_id: uuid.UUID,
    access: QualifyAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> LeadOut:
    lead = await leads.qualify_lead(uow, access, lead_id, expected_version(if_match))
    return _respond(response, lead)


@router.post(
    "/{lead_id}/disqualify",
    summary="Disqualify an open lead, with the reason",
    responses={409: {"description": "Not allowed from the current status"}},
)
async def disqualify_lead(
    lead_id: uuid.UUID,
    body: Disqualification,
    access: DisqualifyAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> LeadOut:
    lead = await leads.disqualify_lead(
        uow, access, lead_id, body.reason, expected_version(if_match)
    )
    return _respond(response, lead)


@router.post(
    "/{lead_id}/convert",
    summary="Convert an open lead into a customer and, if asked, an opportunity",
    responses={
        409: {
            "description": "Not allowed from the current status, or the new customer looks "
            "like an existing one (`existing_id`: link it, or send force=true)"
        },
        422: {"description": "Nothing was written: a part of the conversion was refused"},
    },
)
async def convert_lead(
    lead_id: uuid.UUID,
    access: ConvertAccess,
    uow: UnitOfWorkDep,
    response: Response,
    body: LeadConversion | None = None,
    force: Annotated[
        bool, Query(description="Create the customer even when it looks like a duplicate.")
    ] = False,
    if_match: IfMatch = None,
) -> LeadOut:
    body = body or LeadConversion()
    conversion = leads.Conversion(
        customer_id=body.customer_id,
        customer=body.customer.model_dump(exclude_unset=True) if body.customer else {},
        opportunity=body.opportunity.model_dump(exclude_unset=True) if body.opportunity else None,
        force=force,
    )
    lead = await leads.convert_lead(uow, access, lead_id, conversion, expected_version(if_match))
    return _respond(response, lead)
