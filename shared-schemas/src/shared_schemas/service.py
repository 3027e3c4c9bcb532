"""What every service process shares: settings, the FastAPI app shell, and the entry points."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas import schema_version
from shared_schemas.database import DEFAULT_TIMEOUT, create_engine, session_factory
from shared_schemas.http.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from shared_schemas.http.idempotency import IdempotencyMiddleware
from shared_schemas.http.middleware import HeadAsGet, RequestContextMiddleware
from shared_schemas.http.nul_text import NulTextMiddleware
from shared_schemas.http.openapi import install_conventions
from shared_schemas.http.probes import probes_router
from shared_schemas.http.problems import Problem, install_problem_handlers, problem_response
from shared_schemas.identity import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    IdentityConfig,
    assert_production_safe,
    current_principal,
    verifier,
)
from shared_schemas.identity.revocation import RevokedIds
from shared_schemas.messaging.admin_api import operations_router
from shared_schemas.messaging.kafka import KafkaSettings
from shared_schemas.messaging.metrics import refresh_outbox_gauges
from shared_schemas.messaging.outbox import EventTooLarge
from shared_schemas.messaging.workers import Workers, run_background, serve_process_metrics

log = logging.getLogger(__name__)

_EVENT_TOO_LARGE = Problem(
    422,
    "The change is too large to publish as one event; change fewer or shorter values at a time.",
    kind="validation-error",
    title="Validation error",
    errors=[{"field": "request", "message": "too large to publish as an event"}],
)


async def _on_event_too_large(request: Request, exc: Exception) -> JSONResponse:
    """A change whose event would pass the size limit: raised while the event is recorded,
    inside the change's own transaction, so nothing was written. Every field has a length
    limit, but an event may carry many fields, before and after the change."""
    return problem_response(_EVENT_TOO_LARGE, request.url.path)


class CompanySettings(BaseSettings):
    """Company-wide settings, shared by every service (no service prefix)."""

    model_config = SettingsConfigDict(env_prefix="COMPANY_", extra="ignore")

    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    timezone: str = "UTC"
    payment_terms_days: int = Field(default=30, ge=0, le=365)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # An unknown zone is refused at start rather than at midnight.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ServiceSettings(BaseSettings):
    """Settings every service has; each service subclasses it with its own env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str
    # Seconds one database call may take (connect, statement, SQLite write lock) before
    # the route answers 503 and the relay or consumer retries; under the gateway's read
    # timeout so a frozen database is reported as such, not as a gateway timeout.
    database_timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=300)
    # Connections one process keeps open to its database; as many again open under load.
    # A relay or a consumer needs few; every process's count adds up on the server.
    database_pool_size: int = Field(default=10, ge=1, le=100)
    host: str = "127.0.0.1"
    port: int
    # Larger request bodies are refused with 413 (the gateway applies its own first).
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1_024)
    log_level: str = "info"
    # The smallest deployments run relay and consumer inside the API process.
    run_workers_in_api: bool = False
    relay_metrics_port: int = 0
    consumer_metrics_port: int = 0
    # Events the consumer applies per transaction (group commit of the inbox and effects).
    consumer_batch_size: int = Field(default=100, ge=1, le=1000)
    # Defaults to the service's name; its dead-letter topic is dlq.<group>.
    consumer_group: str | None = None
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    jwks_url: str | None = None
    jwks: str | None = None
    company: CompanySettings = Field(default_factory=CompanySettings)

    def engine(self) -> AsyncEngine:
        """An engine on this service's database, with its timeout and pool size."""
        return create_engine(
            self.database_url, pool_size=self.database_pool_size, timeout=self.database_timeout
        )

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production":
            assert_production_safe(self.identity())
        return self

    def identity(self) -> IdentityConfig:
        return IdentityConfig(
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            jwks_url=self.jwks_url,
            jwks=self.jwks,
            development=self.environment == "development",
        )


_frozen = False


def _freeze_startup_objects() -> None:
    """Move what start-up built (modules, routes, models, pools: 150,000-180,000 objects
    in each API process) out of the garbage collector's sight, once per process: a full
    collection over them took ~100 ms on the development machines (in the ERP API under
    load, one every few seconds), a pause every request in flight waits out."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: ServiceSettings,
    engine: AsyncEngine,
    workers: Workers,
    routers: Sequence[APIRouter],
    public_routers: Sequence[APIRouter] = (),
    openapi_url: str | None = "/openapi.json",
    docs_url: str | None = "/docs",
    redoc_url: str | None = "/redoc",
    refresh_metrics: Sequence[Callable[[], Awaitable[None]]] = (),
    terminated_employees: Select[Any] | None = None,
) -> FastAPI:
    """A service's FastAPI app: problem+json errors, request ids, probes, token checks, and
    an OpenAPI document that describes them (`shared_schemas.http.openapi`).

    `service` is the service's name in the permission table (`crm`, `erp`, `gateway`).
    Every route of `routers` requires a valid access token; `public_routers` (and the
    probes) do not. The dead-letter admin routes are added to every service. A service
    that serves its API documents itself (the gateway merges the services' into its own)
    moves FastAPI's with `openapi_url`, `docs_url` and `redoc_url`. `refresh_metrics` read the
    service's own gauges from its database at each scrape of `/metrics`, beside the
    outbox's. `terminated_employees` selects the ids of employees the service knows to
    have left: a token naming one of them is refused (401) from then on, whatever its
    expiry (design §7).
    """

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background = None
        if settings.run_workers_in_api:
            background = _InProcessWorkers(workers)
            background.start()
        _freeze_startup_objects()
        try:
            yield
        finally:
            if background is not None:
                await background.stop()
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=openapi_url,
        docs_url=docs_url,
        redoc_url=redoc_url,
    )
    app.state.settings = settings
    app.state.workers = workers
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    revoked = None
    if terminated_employees is not None:
        revoked = RevokedIds(
            engine,
            terminated_employees,
            claim=lambda principal: principal.employee_id,
            reason="employee {} has left",
        )
    app.state.token_verifier = verifier(settings.identity(), revoked)
    install_problem_handlers(app)
    app.add_exception_handler(EventTooLarge, _on_event_too_large)
    app.add_middleware(
        IdempotencyMiddleware,
        engine=engine,
        table=workers.tables.idempotency_keys,
        ttl=workers.idempotency_ttl,
        lease=workers.idempotency_lease,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(NulTextMiddleware)  # before a key is claimed for a refused request
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)  # outermost: every answer has a request id
    outbox = workers.tables.outbox

    async def refresh_gauges() -> None:
        # Each gauge on its own: one whose source is away (the database) keeps its last
        # value without freezing the others (the broker's state).
        refreshers: list[Callable[[], Awaitable[None]]] = [
            partial(refresh_outbox_gauges, engine, outbox),
            *refresh_metrics,
        ]
        for refresh in refreshers:
            try:
                await refresh()
            except Exception:
                log.debug("a gauge could not be refreshed", exc_info=True)

    app.include_router(probes_router(engine, refresh_metrics=refresh_gauges))
    for router in public_routers:
        app.include_router(router)
    for router in [*routers, operations_router(service, workers)]:
        app.include_router(router, dependencies=[Depends(current_principal)])
    # The document says what the layers above do: problem+json, Idempotency-Key, 401, ...
    install_conventions(app)
    return app


class _InProcessWorkers:
    def __init__(self, workers: Workers) -> None:
        self.relay = workers.relay()
        self.jobs = workers.job_runner()
        self.consumer = workers.consumer()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self.relay.run()),
            asyncio.create_task(self.jobs.run()),
            asyncio.create_task(self.consumer.run()),
        ]

    async def stop(self) -> None:
        self.relay.request_stop()
        self.jobs.request_stop()
        self.consumer.request_stop()
        await asyncio.wait(self.tasks, timeout=20)


def configure_logging(level: str, process: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format=f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s",
    )


def serve_api(app_factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    uvicorn.run(
        app_factory(),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )


def serve_relay(workers: Workers, settings: ServiceSettings) -> None:
    serve_process_metrics(settings.host, settings.relay_metrics_port)
    asyncio.run(run_background(workers, relay=True, consumer=False))


def serve_consumer(workers: Workers, settings: ServiceSettings) -> None:
    serve_process_metrics(settings.host, settings.consumer_metrics_port)
    asyncio.run(run_background(workers, relay=False, consumer=True))


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


class EntryPoints(Generic[SettingsT]):
    """The console scripts of a service: `<name>-api`, `<name>-relay`, `<name>-consumer`
    and `<name>-wait-for-schema`, each reading the service's settings from the
    environment."""

    def __init__(
        self,
        name: str,
        settings: type[SettingsT],
        create_app: Callable[[SettingsT], FastAPI],
        build_workers: Callable[[AsyncEngine, SettingsT], Workers],
    ) -> None:
        self.name = name
        self.settings = settings
        self.create_app = create_app
        self.build_workers = build_workers

    def api(self) -> None:
        settings = self.settings()
        configure_logging(settings.log_level, f"{self.name}-api")
        serve_api(lambda: self.create_app(settings), settings)

    def relay(self) -> None:
        settings = self.settings()
        configure_logging(settings.log_level, f"{self.name}-relay")
        engine = settings.engine()
        serve_relay(self.build_workers(engine, settings), settings)

    def consumer(self) -> None:
        settings = self.settings()
        configure_logging(settings.log_level, f"{self.name}-consumer")
        engine = settings.engine()
        serve_consumer(self.build_workers(engine, settings), settings)

    def wait_for_schema(self) -> None:
        """Return once the database is migrated for this build (`schema_version`). It
        reads the database URL alone, so it starts without the process's other secrets."""

        class Database(BaseSettings):
            model_config = SettingsConfigDict(
                env_prefix=self.settings.model_config.get("env_prefix", ""), extra="ignore"
            )
            database_url: str = self.settings.model_fields["database_url"].default
            log_level: str = "info"

        settings = Database()
        configure_logging(settings.log_level, f"{self.name}-wait-for-schema")
        raise SystemExit(schema_version.main(settings.database_url, sys.argv[1:]))


__all__ = [
    "CompanySettings",
    "EntryPoints",
    "KafkaSettings",
    "ServiceSettings",
    "configure_logging",
    "create_service_app",
    "serve_api",
    "serve_consumer",
    "serve_relay",
]
