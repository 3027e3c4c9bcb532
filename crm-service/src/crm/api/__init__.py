"""The CRM's HTTP API: one router per resource module (each module's `router`)."""

from __future__ import annotations

import sys

from fastapi import APIRouter

from shared_schemas import discovery


def routers() -> list[APIRouter]:
    return discovery.routers(sys.modules[__name__])
