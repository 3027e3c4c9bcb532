"""A service called straight at its port refuses a request body over its limit with 413
problem+json before reading it, whether the body announces its length or only streams
past the limit; the refused request leaves nothing behind. (The gateway's own check is
gateway/tests/api/test_limits.py.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from erp.config import Settings
from tests.support.erp import Erp

pytestmark = pytest.mark.api

LIMIT = 4_096


@pytest.fixture
def erp_settings(erp_settings: Settings) -> Settings:
    return erp_settings.model_copy(update={"max_body_bytes": LIMIT})


def product(sku: str, padding: int = 0) -> bytes:
    body = {
        "sku": sku,
        "name": "x" * padding or sku,
        "unit_price": "10.00",
        "tax_rate": "19",
        "cost": "4.00",
    }
    return json.dumps(body).encode()


async def streamed(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 1_000):
        yield body[start : start + 1_000]


async def test_a_body_over_the_limit_is_refused_and_leaves_no_trace(erp: Erp) -> None:
    headers = {
        **erp.headers("admin"),
        "Content-Type": "application/json",
        "Idempotency-Key": "big-body-1",
    }
    big = product("BIG", padding=2 * LIMIT)

    announced = await erp.client.post("/products", content=big, headers=headers)
    assert announced.status_code == 413, announced.text
    assert announced.headers["content-type"] == "application/problem+json"
    assert announced.json()["detail"] == f"The request body is larger than {LIMIT} bytes."
    assert "x-request-id" in announced.headers

    chunked = await erp.client.post("/products", content=streamed(big), headers=headers)
    assert chunked.status_code == 413, chunked.text
    assert chunked.headers["content-type"] == "application/problem+json"

    # Neither attempt claimed the key nor wrote anything: the retry with a body that fits,
    # streamed as well, is the first to take effect.
    fits = await erp.client.post("/products", content=streamed(product("BIG")), headers=headers)
    assert fits.status_code == 201, fits.text
    listed = await erp.client.get("/products", headers=erp.headers("admin"))
    assert [p["sku"] for p in listed.json()["items"]] == ["BIG"]
    assert [e["data"]["sku"] for e in await erp.events("erp.product.created.v1")] == ["BIG"]


async def test_a_length_of_more_digits_than_a_number_holds_is_over_the_limit(erp: Erp) -> None:
    headers = {**erp.headers("admin"), "Content-Type": "application/json"}
    for length in ("9" * 5_000, "²"):
        answer = await erp.client.post(
            "/products",
            content=product("ODD"),
            headers={**headers, "Content-Length": length.encode("latin-1")},
        )
        assert answer.status_code == 413, (length[:3], answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    listed = await erp.client.get("/products", headers=erp.headers("admin"))
    assert listed.json()["items"] == []
    assert await erp.events() == []
