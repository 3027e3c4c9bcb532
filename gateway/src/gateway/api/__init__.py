"""The gateway's own HTTP routes: one module per concern. A module's `router` requires a
valid access token; its `public_router` (sign-in, public keys, API documents) does not."""

from __future__ import annotations

import sys

from fastapi import APIRouter

from shared_schemas import discovery


def routers() -> list[APIRouter]:
    return discovery.routers(sys.modules[__name__])


def public_routers() -> list[APIRouter]:
    return discovery.routers(sys.modules[__name__], "public_router")
