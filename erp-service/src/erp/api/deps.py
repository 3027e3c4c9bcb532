"""Dependencies of the ERP routes, declared once (route permissions are `Annotated`
aliases of `Authorize(...)` next to each router)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from erp.service.unit_of_work import UnitOfWork
from shared_schemas.identity import CurrentPrincipal
from shared_schemas.unit_of_work import READING_METHODS


async def unit_of_work(request: Request, principal: CurrentPrincipal) -> UnitOfWork:
    # async on purpose: FastAPI runs plain functions in a thread pool, a costly hop here.
    state = request.app.state
    reading = request.method in READING_METHODS
    return UnitOfWork(state.sessions, state.settings, principal, read_only=reading)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _calendar_day(value: Any) -> date:
    """`YYYY-MM-DD` and nothing else: pydantic's lax mode would also take a number as
    seconds since 1970 (`0` is 1970-01-01) and a time at midnight, dating a report or a
    record another day than meant."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "a date written YYYY-MM-DD, e.g. 2026-11-30")


Day = Annotated[date, BeforeValidator(_calendar_day)]
"""A day in a query or a request body (its JSON schema stays `string`, format `date`)."""
