"""`/customers`: companies and people the company sells to."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from crm.adapters.customers import Customer
from crm.api.deps import UnitOfWorkDep
from crm.service import customer_creation, customer_search, customers
from shared_schemas.events.values import Address
from shared_schemas.http.address import PostalAddress
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.json_types import JsonInt
from shared_schemas.http.pagination import CreatedFrom, CreatedTo, Cursor, Limit, Page
from shared_schemas.http.patch import NotNull
from shared_schemas.http.text import Words
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money
from shared_schemas.permissions import may
from shared_schemas.pricing import MAX_AMOUNT
from shared_schemas.roles import Role

router = APIRouter(prefix="/customers", tags=["customers"])

ReadAccess = Annotated[Access, Depends(Authorize("crm", "customers", "read"))]
CreateAccess = Annotated[Access, Depends(Authorize("crm", "customers", "create"))]
UpdateAccess = Annotated[Access, Depends(Authorize("crm", "customers", "update"))]
ArchiveAccess = Annotated[Access, Depends(Authorize("crm", "customers", "archive"))]
RestoreAccess = Annotated[Access, Depends(Authorize("crm", "customers", "restore"))]

Tag = Annotated[Words, Field(max_length=50)]
Phone = Annotated[Words, Field(max_length=50)]


ADDRESS_EXAMPLE: dict[str, JsonValue] = {
    "street": "Hauptstraße 5",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
}


class CustomerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "company",
                    "name": "Acme GmbH",
                    "email": "buying@acme.example",
                    "phone": "+49 30 1234567",
                    "industry": "Manufacturing",
                    "credit_limit": "25000.00",
                    "payment_terms_days": 30,
                    "billing_address": ADDRESS_EXAMPLE,
                    "tags": ["key-account"],
                    "custom_fields": {"segment": "enterprise"},
                }
            ]
        },
    )

    kind: Literal["company", "person"]
    name: Words = Field(max_length=200)
    email: EmailStr | None = None
    phone: Phone | None = None
    industry: str | None = Field(default=None, max_length=100)
    owner_id: uuid.UUID | None = Field(
        default=None, description="The owning sales rep; defaults to you if you may own it."
    )
    credit_limit: Money | None = Field(
        default=None,
        ge=0,
        le=MAX_AMOUNT,
        description="In the company currency; finance and managers only.",
    )
    payment_terms_days: JsonInt | None = Field(
        default=None, ge=0, le=365, description="Defaults to the company's payment terms."
    )
    billing_address: PostalAddress | None = None
    shipping_address: PostalAddress | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, JsonValue] = Field(default_factory=dict, max_length=100)


class CustomerUpdate(BaseModel):
    """Fields to change; those left out stay as they are and null removes an optional one
    (null for `name`, `kind`, `payment_terms_days` or `custom_fields` is a 422: a customer
    always has them). Status changes through `/archive` and `/restore`, never here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "+49 30 7654321", "tags": ["key-account"]}]},
    )

    kind: Annotated[Literal["company", "person"] | None, NotNull] = None
    name: Annotated[Words | None, NotNull] = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: Phone | None = None
    industry: str | None = Field(default=None, max_length=100)
    owner_id: uuid.UUID | None = None
    credit_limit: Money | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    payment_terms_days: Annotated[JsonInt | None, NotNull] = Field(default=None, ge=0, le=365)
    billing_address: PostalAddress | None = None
    shipping_address: PostalAddress | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    custom_fields: Annotated[dict[str, JsonValue] | None, NotNull] = Field(
        default=None,
        max_length=100,
        description="Merged into the current ones: a field given null is cleared "
        "(a required one cannot be). The object itself may not be null.",
    )


# The figures ERP reported about a customer, and the ERP resource a role must read to see
# them, as on the customer's timeline: left out of every customer response for the others.
ERP_FIGURES = {
    "open_balance": "invoices",
    "lifetime_value": "invoices",
    "last_order_id": "orders",
    "last_order_number": "orders",
    "last_order_at": "orders",
}


class CustomerOut(BaseModel):
    """A customer. The figures ERP reported (`open_balance`, `lifetime_value`, the
    `last_order_*` fields) are left out entirely for roles that may not read the ERP
    records behind them (invoices, orders)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f2f4e-3c1a-4f57-9a52-2f0f6a0f3b11",
                    "kind": "company",
                    "name": "Acme GmbH",
                    "email": "buying@acme.example",
                    "phone": "+49 30 1234567",
                    "industry": "Manufacturing",
                    "owner_id": "d0000000-0000-4000-8000-000000000002",
                    "credit_limit": "25000.00",
                    "payment_terms_days": 30,
                    "currency": "EUR",
                    "billing_address": ADDRESS_EXAMPLE,
                    "shipping_address": None,
                    "tags": ["key-account"],
                    "custom_fields": {"segment": "enterprise"},
                    "status": "active",
                    "archived_at": None,
                    "open_balance": "1190.00",
                    "lifetime_value": "5950.00",
                    "last_order_id": None,
                    "last_order_number": None,
                    "last_order_at": None,
                    "version": 3,
                    "created_at": "2026-11-02T09:30:00Z",
                    "updated_at": "2026-11-20T14:05:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    kind: str
    name: str
    email: str | None
    phone: str | None
    industry: str | None
    owner_id: uuid.UUID | None
    credit_limit: Money | None
    payment_terms_days: int
    currency: str = Field(description="The currency of credit_limit and the balances.")
    billing_address: Address | None
    shipping_address: Address | None
    tags: list[str]
    custom_fields: dict[str, Any]
    status: Literal["active", "archived"]
    archived_at: datetime | None
    open_balance: Annotated[Money | None, NotNull] = Field(
        default=None,
        description="Unpaid amount of its invoices, as ERP reports. Present only for roles "
        "that may read ERP invoices.",
    )
    lifetime_value: Annotated[Money | None, NotNull] = Field(
        default=None,
        description="Total of its invoices that were not voided. Present only for roles "
        "that may read ERP invoices.",
    )
    last_order_id: uuid.UUID | None = Field(
        default=None,
        description="Its newest ERP order (null: none yet). Present only for roles that may "
        "read ERP orders, as are `last_order_number` and `last_order_at`.",
    )
    last_order_number: str | None = None
    last_order_at: datetime | None = None
    version: int
    created_at: datetime
    updated_at: datetime

    # Without a return annotation: pydantic would document the annotated type instead of
    # this model in the OpenAPI document.
    @model_serializer(mode="wrap")
    def _leave_out_hidden_figures(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        for name in ERP_FIGURES:
            if name not in self.model_fields_set:
                data.pop(name, None)
        return data


def customer_out(customer: Customer, currency: str, access: Access) -> CustomerOut:
    """The customer as the caller may see it: an ERP figure the caller's roles may not read
    stays unset, and an unset figure is left out of the response."""
    hidden = _hidden_figures(access.principal.roles)
    return CustomerOut.model_validate(
        {
            **{
                field: getattr(customer, field)
                for field in CustomerOut.model_fields
                if field not in ("currency", "status", *hidden) and hasattr(customer, field)
            },
            "currency": currency,
            "status": customers.status_of(customer),
        }
    )


def _hidden_figures(roles: frozenset[Role]) -> frozenset[str]:
    return frozenset(
        field for field, resource in ERP_FIGURES.items() if not may(roles, "erp", resource, "read")
    )


def _respond(
    response: Response, customer: Customer, request: Request, access: Access
) -> CustomerOut:
    set_etag(response, customer.version)
    return customer_out(customer, request.app.state.settings.company.currency, access)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer",
    responses={
        409: {"description": "A customer with this email or name exists (`existing_id`)"},
        403: {"description": "A field your role may not set (named in `errors`)"},
    },
)
async def create_customer(
    body: CustomerCreate,
    access: CreateAccess,
    request: Request,
    response: Response,
    force: Annotated[
        bool, Query(description="Create even when it looks like a duplicate.")
    ] = False,
) -> CustomerOut:
    values = body.model_dump(exclude_unset=True)
    values["kind"], values["name"] = body.kind, body.name
    writer = request.app.state.customer_writer
    customer = await customer_creation.create_customer(writer, access, values, force=force)
    response.headers["Location"] = f"/customers/{customer.id}"
    return _respond(response, customer, request, access)


@router.get("", summary="List and search customers")
async def list_customers(
    access: ReadAccess,
    uow: UnitOfWorkDep,
    request: Request,
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
        Query(min_length=1, max_length=100, description="Prefix of the name or email."),
    ] = None,
    kind: Literal["company", "person"] | None = None,
    owner_id: Annotated[list[uuid.UUID] | None, Query()] = None,
    industry: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[list[str] | None, Query(description="Any of these tags.")] = None,
    status_: Annotated[
        list[Literal["active", "archived"]] | None,
        Query(alias="status", description="Default: active only."),
    ] = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
) -> Page[CustomerOut]:
    custom = {
        key[3:]: value
        for key, value in request.query_params.items()
        if key.startswith("cf.") and len(key) > 3
    }
    filters = customer_search.CustomerFilters(
        q=q,
        kind=kind,
        owner_ids=owner_id or [],
        industry=industry,
        tags=tag or [],
        statuses=list(status_ or ["active"]),
        created_from=created_from,
        created_to=created_to,
        custom_fields=custom,
    )
    currency = request.app.state.settings.company.currency
    async with uow:
        page = await customer_search.list_customers(uow.session, filters, sort, cursor, limit)
    return Page[CustomerOut](
        items=[customer_out(c, currency, access) for c in page.items], next_cursor=page.next_cursor
    )


@router.get("/{customer_id}", summary="One customer")
async def get_customer(
    customer_id: uuid.UUID,
    access: ReadAccess,
    uow: UnitOfWorkDep,
    request: Request,
    response: Response,
) -> CustomerOut:
    async with uow:
        customer = await customers.get_customer(uow.session, customer_id)
    return _respond(response, customer, request, access)


@router.patch(
    "/{customer_id}",
    summary="Change a customer",
    responses={412: {"description": "If-Match names an older version"}},
)
async def update_customer(
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    access: UpdateAccess,
    uow: UnitOfWorkDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> CustomerOut:
    changes = body.model_dump(exclude_unset=True)
    customer = await customers.update_customer(
        uow, access, customer_id, changes, expected_version(if_match)
    )
    return _respond(response, customer, request, access)


@router.post("/{customer_id}/archive", summary="Archive a customer (kept for history)")
async def archive_customer(
    customer_id: uuid.UUID,
    access: ArchiveAccess,
    uow: UnitOfWorkDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> CustomerOut:
    customer = await customers.archive_customer(
        uow, access, customer_id, expected_version(if_match)
    )
    return _respond(response, customer, request, access)


@router.post("/{customer_id}/restore", summary="Bring an archived customer back")
async def restore_customer(
    customer_id: uuid.UUID,
    access: RestoreAccess,
    uow: UnitOfWorkDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> CustomerOut:
    customer = await customers.restore_customer(
        uow, access, customer_id, expected_version(if_match)
    )
    return _respond(response, customer, request, access)
