"""`GET /healthz/upstreams`: the circuit of each service the gateway routes to. The
gateway's own `/healthz` and `/readyz` never depend on the services."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request

from gateway.adapters.upstream import Upstream

public_router = APIRouter(tags=["operations"])


@public_router.get(
    "/healthz/upstreams",
    summary="The circuit breaker of each upstream service",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "status": "ok",
                        "upstreams": {"crm": {"circuit": "closed"}, "erp": {"circuit": "open"}},
                    }
                }
            }
        }
    },
)
async def upstream_health(request: Request) -> dict[str, object]:
    upstreams: Mapping[str, Upstream] = request.app.state.upstreams
    return {
        "status": "ok",
        "upstreams": {
            name: {"circuit": upstream.breaker_state.label} for name, upstream in upstreams.items()
        },
    }
