"""Dependencies of the ERP routes, declared once (route permissions are `Annotated`
aliases of `Authorize(...)` next to each router)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from erp.service.unit_of_work import UnitOfWork
from shared_schemas.identity import CurrentPrincipal
from shared_schemas.unit_of_work import READING_METHODS


async def unit_of_work(request: Request, principal: CurrentPrincipal) -> UnitOfWork:
    # async on purpose: FastAPI runs plain functions in a thread pool, a costly hop here.
    state = request.app.state
    reading = request.method in READING_METHODS
    return UnitOfWork(state.sessions, state.settings, principal, read_only=reading)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
