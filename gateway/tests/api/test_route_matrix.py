"""Every route of both services, by every role, through the gateway to the real services:
a 403 exactly where the permission table says the role may not use the route, and for
the others an answer from the service itself (2xx, or 404/422 for the made-up ids and
empty bodies used here), never a 5xx. The gateway's own admin routes likewise."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared_schemas.identity import Authorize
from shared_schemas.permissions import may
from shared_schemas.roles import Role
from tests.support.through_gateway import as_, gateway_to, services

pytestmark = pytest.mark.security

SOME_ID = "0b1e4f1a-8b7c-4d5e-9f00-112233445566"


def checked_routes(app: FastAPI) -> Iterator[tuple[str, str, str, str]]:
    """(method, path, resource, action) of every route guarded by `Authorize`."""
    for candidate in app.routes:
        # Routers included with prefixes or dependencies are contexts of their route.
        contexts = getattr(candidate, "effective_route_contexts", None)
        for context in contexts() if contexts else [candidate]:
            route = getattr(context, "original_route", context)
            if not isinstance(route, APIRoute):
                continue
            found = _authorize(route.dependant)
            if found is None:
                continue
            for method in sorted(route.methods):
                yield method, str(context.path), found.resource, found.action


def _authorize(dependant: Any) -> Authorize | None:
    if isinstance(dependant.call, Authorize):
        return dependant.call
    for child in dependant.dependencies:
        found = _authorize(child)
        if found is not None:
            return found
    return None


async def test_every_route_by_every_role_through_the_gateway(tmp_path: Path) -> None:
    answers: Counter[int] = Counter()
    async with (
        services(tmp_path) as live,
        gateway_to(tmp_path, live.crm_url, live.erp_url) as gateway,
    ):
        for service, app in live.apps.items():
            for method, path, resource, action in checked_routes(app):
                concrete = re.sub(r"\{[^}]+\}", SOME_ID, path)
                body = {} if method in ("POST", "PUT", "PATCH") else None
                for role in Role:
                    response = await gateway.request(
                        method, f"/api/{service}{concrete}", json=body, headers=as_(role.value)
                    )
                    where = (role.value, method, f"/api/{service}{path}")
                    answers[response.status_code] += 1
                    if may({role}, service, resource, action):
                        assert response.status_code != 403, (*where, response.text)
                        assert response.status_code < 500, (*where, response.text)
                    else:
                        assert response.status_code == 403, (*where, response.text)
        for path in ("/auth/users", "/api/webhooks"):
            for role in Role:
                expected = 200 if role is Role.ADMIN else 403
                response = await gateway.get(path, headers=as_(role.value))
                assert response.status_code == expected, (role.value, path, response.text)
    # Both kinds of answer were seen in numbers: the matrix exercised the table.
    assert answers[403] > 200
    assert sum(count for status, count in answers.items() if status != 403) > 200
