"""Limits at the edge: body size (413), page size (422), rate limits per user and per IP
with Retry-After (429) in memory and shared through Redis, and CORS for the configured
origins. What the edge refuses never reaches the service."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared_schemas.broker import free_port
from tests.support.edge import bearer, edge_gateway
from tests.support.stub_upstreams import StubUpstream

pytestmark = pytest.mark.api

# Setting TEST_REDIS_URL (CI does) makes Redis mandatory: its tests fail rather than skip.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMIT = 2048


async def chunks(size: int, piece: int = 512) -> AsyncIterator[bytes]:
    for _ in range(size // piece):
        yield b"x" * piece


async def test_a_body_over_the_limit_is_a_413_announced_or_streamed(database_url: str) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url, max_body_bytes=LIMIT) as gateway,
    ):
        client, admin = gateway.client, bearer("admin")
        announced = await client.post("/api/erp/orders", content=b"x" * (LIMIT + 1), headers=admin)
        assert announced.status_code == 413
        assert announced.headers["content-type"] == "application/problem+json"
        assert stub.connections == 0

        streamed = await client.post("/api/erp/orders", content=chunks(2 * LIMIT), headers=admin)
        assert streamed.status_code == 413
        assert streamed.headers["content-type"] == "application/problem+json"
        # A streamed body is passed on as it comes and cut off at the limit: the service
        # never gets a whole request to act on.
        assert stub.arrived == []

        fits = await client.post("/api/erp/orders", content=chunks(LIMIT), headers=admin)
        assert fits.status_code == 200
        assert [arrived.body for arrived in stub.arrived] == [b"x" * LIMIT]

        # The gateway's own routes have the same limit.
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        own = await client.post("/auth/token", content=b"x" * (LIMIT + 1), headers=form)
        assert own.status_code == 413
        own_streamed = await client.post("/auth/token", content=chunks(2 * LIMIT), headers=form)
        assert own_streamed.status_code == 413
        assert own_streamed.headers["content-type"] == "application/problem+json"


async def test_a_page_over_200_is_a_422_without_asking_the_service(database_url: str) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, crm_url=stub.url) as gateway,
    ):
        refused = await gateway.client.get(
            "/api/crm/customers?q=a&limit=500", headers=bearer("admin")
        )
        assert refused.status_code == 422
        assert refused.json()["errors"] == [{"field": "query.limit", "message": "at most 200"}]
        assert stub.connections == 0
        allowed = await gateway.client.get("/api/crm/customers?limit=200", headers=bearer("admin"))
        assert allowed.status_code == 200


async def test_a_page_size_in_other_digits_is_left_to_the_service_and_a_huge_one_is_a_422(
    database_url: str,
) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, crm_url=stub.url) as gateway,
    ):
        # `²` is a digit to Python's str.isdigit but no number: the service judges it.
        odd = await gateway.client.get("/api/crm/customers?limit=%C2%B2", headers=bearer("admin"))
        assert odd.status_code == 200, odd.text
        assert [arrived.target for arrived in stub.arrived] == ["/customers?limit=%C2%B2"]
        # More digits than Python reads as a number are still a page over 200.
        huge = await gateway.client.get(
            "/api/crm/customers", params={"limit": "9" * 5000}, headers=bearer("admin")
        )
        assert huge.status_code == 422, huge.text
        assert huge.json()["errors"] == [{"field": "query.limit", "message": "at most 200"}]
        assert len(stub.arrived) == 1


async def test_a_page_size_is_judged_as_the_service_reads_the_query(database_url: str) -> None:
    """An encoded name is still `limit`, every `limit` counts, and a number the service
    reads in another spelling (`+201`, `201.0`) is the number it spells."""
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, crm_url=stub.url) as gateway,
    ):
        for query in (
            "%6cimit=201",
            "%6C%69mit=500",
            "limit=5&limit=201",
            "limit=+201",
            "limit=201.0",
        ):
            refused = await gateway.client.get(
                f"/api/crm/customers?{query}", headers=bearer("admin")
            )
            assert refused.status_code == 422, (query, refused.text)
            assert refused.json()["errors"] == [{"field": "query.limit", "message": "at most 200"}]
        assert stub.arrived == []
        allowed = await gateway.client.get(
            "/api/crm/customers?%6cimit=200", headers=bearer("admin")
        )
        assert allowed.status_code == 200
        assert [arrived.target for arrived in stub.arrived] == ["/customers?%6cimit=200"]


def assert_rate_limited(response_status: int, retry_after: str | None, most: int) -> None:
    assert response_status == 429
    assert retry_after is not None
    assert 1 <= int(retry_after) <= most


async def test_each_user_has_a_limit_per_minute(database_url: str) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(
            database_url, erp_url=stub.url, rate_limit_per_user=3, rate_limit_per_ip=1000
        ) as gateway,
    ):
        ada = bearer("admin", "ada")
        for _ in range(3):
            assert (await gateway.client.get("/api/erp/products", headers=ada)).status_code == 200
        refused = await gateway.client.get("/api/erp/products", headers=ada)
        # Three a minute: the next one is due in 20 s.
        assert_rate_limited(refused.status_code, refused.headers.get("retry-after"), 20)
        assert refused.json()["type"].endswith("/rate-limited")
        assert "x-request-id" in refused.headers
        assert len(stub.arrived) == 3
        other = await gateway.client.get("/api/erp/products", headers=bearer("admin", "bob"))
        assert other.status_code == 200
        # The gateway's own routes count against the same limit.
        own = await gateway.client.get("/auth/users", headers=ada)
        assert own.status_code == 429


async def test_each_address_has_a_limit_per_minute(database_url: str) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(
            database_url, erp_url=stub.url, rate_limit_per_user=1000, rate_limit_per_ip=3
        ) as gateway,
    ):
        for n in range(3):
            answer = await gateway.client.get("/api/erp/products", headers=bearer("admin", f"u{n}"))
            assert answer.status_code == 200
        refused = await gateway.client.get("/api/erp/products", headers=bearer("admin", "u9"))
        assert_rate_limited(refused.status_code, refused.headers.get("retry-after"), 20)
        anonymous = await gateway.client.get("/api/erp/products")
        assert anonymous.status_code == 429  # counted before the token is even looked at
        async with gateway.client_from("127.0.0.2") as elsewhere:
            answer = await elsewhere.get("/api/erp/products", headers=bearer("admin", "u9"))
            assert answer.status_code == 200
        # Probes are never limited (orchestrators and scrapers call them all the time).
        for _ in range(5):
            assert (await gateway.client.get("/healthz")).status_code == 200
            assert (await gateway.client.get("/metrics")).status_code == 200


async def test_an_ipv6_client_is_one_address_across_its_64_and_a_mapped_ipv4_is_the_ipv4(
    database_url: str,
) -> None:
    async with (
        StubUpstream() as stub,
        edge_gateway(
            database_url, erp_url=stub.url, rate_limit_per_user=1000, rate_limit_per_ip=2
        ) as gateway,
    ):

        async def status_from(address: str) -> int:
            async with gateway.client_from(address) as client:
                answer = await client.get("/api/erp/products", headers=bearer("admin"))
                return answer.status_code

        # A host taking a fresh address of its /64 for every request.
        assert await status_from("2001:db8:1:2::1") == 200
        assert await status_from("2001:db8:1:2::2") == 200
        assert await status_from("2001:db8:1:2:aaaa::3") == 429
        assert await status_from("2001:db8:1:3::1") == 200  # another network
        # A dual-stack server sees an IPv4 client IPv4-mapped, or not: one client.
        assert await status_from("198.51.100.7") == 200
        assert await status_from("::ffff:198.51.100.7") == 200
        assert await status_from("198.51.100.7") == 429


async def test_failed_sign_ins_of_an_ipv6_client_count_across_its_64(database_url: str) -> None:
    async with edge_gateway(database_url, login_max_failures=2, login_window_seconds=60) as gateway:
        form = {"grant_type": "password", "username": "nobody", "password": "a guess"}
        answers = []
        for number in range(1, 4):
            async with gateway.client_from(f"2001:db8:5:6::{number}") as client:
                answers.append(
                    (
                        await client.post("/auth/token", data={**form, "username": f"u{number}"})
                    ).status_code
                )
        assert answers == [401, 401, 429]


@pytest.fixture
async def redis_keys() -> AsyncIterator[list[str]]:
    """Keys a test writes to the shared Redis, removed afterwards (skipped without Redis,
    unless TEST_REDIS_URL says there must be one)."""
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        try:
            await redis.ping()
        except (RedisError, OSError):
            if "TEST_REDIS_URL" in os.environ:
                pytest.fail(f"TEST_REDIS_URL is set but Redis at {REDIS_URL} does not answer")
            pytest.skip(f"no Redis at {REDIS_URL}")
        written: list[str] = []
        yield written
        if written:
            await redis.delete(*[f"gateway:rate:{key}" for key in written])
    finally:
        await redis.aclose()


def some_loopback_address() -> str:
    """An address of the test's own, so that runs sharing one Redis never meet."""
    return f"127.{random.randrange(1, 250)}.{random.randrange(1, 250)}.{random.randrange(2, 250)}"


async def test_replicas_share_a_user_s_limit_through_redis(
    database_url: str, redis_keys: list[str]
) -> None:
    user, address = f"user-{uuid.uuid4().hex}", some_loopback_address()
    redis_keys += [f"user:{user}", f"ip:{address}"]
    settings = {"redis_url": REDIS_URL, "rate_limit_per_user": 4, "rate_limit_per_ip": 1000}
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, address=address, erp_url=stub.url, **settings) as first,
        edge_gateway(
            database_url, address=address, migrated=True, erp_url=stub.url, **settings
        ) as second,
    ):
        headers = bearer("admin", user)
        for client in [first.client, second.client, first.client, second.client]:
            assert (await client.get("/api/erp/products", headers=headers)).status_code == 200
        for client in (first.client, second.client):
            refused = await client.get("/api/erp/products", headers=headers)
            assert_rate_limited(refused.status_code, refused.headers.get("retry-after"), 15)
        assert len(stub.arrived) == 4


async def test_an_address_limit_in_redis_refuses_across_replicas(
    database_url: str, redis_keys: list[str]
) -> None:
    address = (
        f"127.{random.randrange(1, 250)}.{random.randrange(1, 250)}.{random.randrange(2, 250)}"
    )
    redis_keys.append(f"ip:{address}")
    settings = {"redis_url": REDIS_URL, "rate_limit_per_ip": 3, "rate_limit_per_user": 1000}
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, address=address, erp_url=stub.url, **settings) as first,
        edge_gateway(
            database_url, address=address, migrated=True, erp_url=stub.url, **settings
        ) as second,
    ):
        for n, client in enumerate([first.client, second.client, first.client]):
            answer = await client.get("/api/erp/products", headers=bearer("admin", f"a{n}"))
            assert answer.status_code == 200
        refused = await second.client.get("/api/erp/products", headers=bearer("admin", "a9"))
        assert_rate_limited(refused.status_code, refused.headers.get("retry-after"), 20)
        assert len(stub.arrived) == 3


def unchecked_requests(metrics: str) -> float:
    """The value of `gateway_rate_limit_errors_total` (its HELP and TYPE lines are there
    from the start, so only the number says whether anything was counted)."""
    name = "gateway_rate_limit_errors_total "
    [line] = [line for line in metrics.splitlines() if line.startswith(name)]
    return float(line.removeprefix(name))


async def test_without_redis_requests_go_on_unlimited_and_counted(database_url: str) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url, redis_url=nowhere, rate_limit_per_user=1) as g,
    ):
        # The counter is the process's: this test reads how much it grows.
        before = unchecked_requests((await g.client.get("/metrics")).text)
        for _ in range(3):
            answer = await g.client.get("/api/erp/products", headers=bearer("admin"))
            assert answer.status_code == 200
        assert len(stub.arrived) == 3, "one a minute, yet all three reached the service"
        metrics = (await g.client.get("/metrics")).text
        assert unchecked_requests(metrics) == before + 3


async def test_cors_answers_allowed_origins_and_refuses_others(database_url: str) -> None:
    app_origin = "https://app.example.com"
    async with (
        StubUpstream() as stub,
        edge_gateway(database_url, erp_url=stub.url, cors_origins=[app_origin]) as gateway,
    ):
        preflight = {
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        }
        allowed = await gateway.client.options(
            "/api/erp/products/1", headers={"Origin": app_origin, **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == app_origin
        assert "PATCH" in allowed.headers["access-control-allow-methods"]
        allowed_headers = allowed.headers["access-control-allow-headers"].lower()
        assert {"authorization", "if-match", "content-type"} <= {
            h.strip() for h in allowed_headers.split(",")
        }

        refused = await gateway.client.options(
            "/api/erp/products/1", headers={"Origin": "https://evil.example", **preflight}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        assert stub.connections == 0

        # An actual request from the app: its answers (refusals too) are readable.
        answer = await gateway.client.get("/api/erp/products", headers={"Origin": app_origin})
        assert answer.status_code == 401
        assert answer.headers["access-control-allow-origin"] == app_origin
        exposed = answer.headers["access-control-expose-headers"].lower()
        assert {"x-request-id", "www-authenticate"} <= {h.strip() for h in exposed.split(",")}
        other = await gateway.client.get(
            "/api/erp/products", headers={"Origin": "https://evil.example", **bearer("admin")}
        )
        assert "access-control-allow-origin" not in other.headers


async def test_a_browser_app_may_resume_the_event_stream_across_origins(
    database_url: str,
) -> None:
    # A fetch-based EventSource reconnects with the Last-Event-ID header (the URL never
    # carries the token): its preflight must allow that header, or the browser refuses
    # the reconnect and the stream cannot resume.
    app_origin = "https://app.example.com"
    async with edge_gateway(database_url, cors_origins=[app_origin]) as gateway:
        preflight = await gateway.client.options(
            "/api/events/stream",
            headers={
                "Origin": app_origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, last-event-id",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == app_origin
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "last-event-id"} <= {h.strip() for h in allowed.split(",")}
