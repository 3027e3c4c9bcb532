"""The gateway's own routes on one record (`/auth/users/{id}`, `/api/webhooks/{id}` and
what hangs below it) answer an unknown id with a 404 problem document, and the API
document says so: a generated client otherwise has no type for that answer."""

from __future__ import annotations

import uuid

import pytest

from tests.support.gateway import Gateway

pytestmark = pytest.mark.api

UNKNOWN = uuid.uuid4()
RECORD_ROUTES = [
    ("get", "/auth/users/{user_id}", None),
    ("patch", "/auth/users/{user_id}", {"roles": ["sales"]}),
    ("get", "/api/webhooks/{webhook_id}", None),
    ("patch", "/api/webhooks/{webhook_id}", {"description": "x"}),
    ("delete", "/api/webhooks/{webhook_id}", None),
    ("get", "/api/webhooks/{webhook_id}/deliveries", None),
    ("post", "/api/webhooks/{webhook_id}/replay", {"since": "2026-11-30T08:00:00Z"}),
]


@pytest.mark.parametrize(("method", "path", "body"), RECORD_ROUTES)
async def test_an_unknown_id_is_a_documented_404(
    gateway: Gateway, method: str, path: str, body: dict[str, object] | None
) -> None:
    target = path.replace("{user_id}", str(UNKNOWN)).replace("{webhook_id}", str(UNKNOWN))
    answer = await gateway.client.request(
        method.upper(), target, json=body, headers=gateway.headers("admin")
    )
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"

    document = (await gateway.client.get("/gateway/openapi.json")).json()
    documented = document["paths"][path][method]["responses"]
    assert "404" in documented, f"{method.upper()} {path}"
    assert list(documented["404"]["content"]) == ["application/problem+json"]
