"""Dependencies of the ERP routes, declared once (route permissions are `Annotated`
aliases of `Authorize(...)` next to each router)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from erp.service.unit_of_work import UnitOfWork
from shared_schemas.identity import CurrentPrincipal


async def unit_of_work(request: Request, principal: CurrentPrincipal) -> UnitOfWork:
    # async on purpose: FastAPI runs plain functions in a thread pool, a costly hop here.
    return UnitOfWork(request.app.state.sessions, request.app.state.settings, principal)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
