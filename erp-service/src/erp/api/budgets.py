"""`/budgets`: the amount planned for an account in a month, which
`/reports/budget-vs-actual` compares with what was posted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from erp.api.deps import UnitOfWorkDep
from erp.domain.orders import MAX_AMOUNT
from erp.service import budgets
from shared_schemas.http.concurrency import IfMatch, expected_version, set_etag
from shared_schemas.http.pagination import Cursor, Limit, Page
from shared_schemas.identity import Access, Authorize
from shared_schemas.money import Money

router = APIRouter(prefix="/budgets", tags=["budgets"])

ReadAccess = Annotated[Access, Depends(Authorize("erp", "budgets", "read"))]
UpdateAccess = Annotated[Access, Depends(Authorize("erp", "budgets", "update"))]
DeleteAccess = Annotated[Access, Depends(Authorize("erp", "budgets", "delete"))]

# Years 0001 to 9999, as the service takes them (there is no year 0000).
YEAR_PATTERN = "(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
MONTH_PATTERN = f"^{YEAR_PATTERN}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Path(pattern=MONTH_PATTERN, description="`YYYY-MM`, e.g. 2026-11.")]

EXAMPLE: dict[str, JsonValue] = {"amount": "1500.00"}


class BudgetAmount(BaseModel):
    """The amount planned for the month, on the account's normal side (an expense
    account's spending, a revenue account's income)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    amount: Money = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)


class BudgetOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3e9a1c57-2b4d-4f60-8a7e-1d2c3b4a5f60",
                    "account_id": "0b4a4f0e-3c2d-4d7b-9a57-2f4f0f6f1c01",
                    "month": "2026-11",
                    **EXAMPLE,
                    "version": 1,
                    "created_at": "2026-10-15T09:00:00Z",
                    "updated_at": "2026-10-15T09:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    account_id: uuid.UUID
    month: str
    amount: Money
    version: int
    created_at: datetime
    updated_at: datetime


@router.put(
    "/{account_id}/{month}",
    summary="Set an account's budget for a month (created, or its amount replaced)",
    responses={
        200: {"description": "The month's budget was replaced"},
        201: {"description": "The month's budget was created", "model": BudgetOut},
        412: {
            "description": "If-Match names another version, or there is no budget to match "
            "(`current_version` 0)"
        },
        404: {"description": "No such account"},
        422: {"description": "Not a month, or an inactive account"},
    },
)
async def set_budget(
    account_id: uuid.UUID,
    month: Month,
    body: BudgetAmount,
    _access: UpdateAccess,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> BudgetOut:
    result = await budgets.set_budget(uow, account_id, month, body.amount, _precondition(if_match))
    if result.created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/budgets/{account_id}/{month}"
    set_etag(response, result.budget.version)
    return BudgetOut.model_validate(result.budget)


@router.get("", summary="List budgets")
async def list_budgets(
    _access: ReadAccess,
    uow: UnitOfWorkDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    sort: Annotated[str | None, Query(description="`month` (the default) or `-month`.")] = None,
    month: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="Only this month's budgets.")
    ] = None,
    account_id: uuid.UUID | None = None,
    month_from: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="Budgets of this month or later.")
    ] = None,
    month_to: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="Budgets of this month or earlier."),
    ] = None,
) -> Page[BudgetOut]:
    async with uow:
        page = await budgets.list_budgets(
            uow.session,
            month,
            account_id,
            sort,
            cursor,
            limit,
            month_from=month_from,
            month_to=month_to,
        )
    return Page[BudgetOut](
        items=[BudgetOut.model_validate(b) for b in page.items], next_cursor=page.next_cursor
    )


@router.delete(
    "/{account_id}/{month}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an account's budget for a month",
    responses={
        404: {"description": "No budget for that account and month"},
        412: {"description": "If-Match names another version"},
    },
)
async def remove_budget(
    account_id: uuid.UUID,
    month: Month,
    _access: DeleteAccess,
    uow: UnitOfWorkDep,
    if_match: IfMatch = None,
) -> Response:
    await budgets.remove_budget(uow, account_id, month, _precondition(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _precondition(if_match: str | None) -> budgets.Precondition | None:
    """`If-Match: "<version>"` or `*` (any version); None without the header."""
    if if_match is None:
        return None
    return budgets.Precondition(expected_version(if_match))
