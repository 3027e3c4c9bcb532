"""Kafka client settings shared by every process, and explicit topic creation."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.helpers import create_ssl_context
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared_schemas.messaging.lifecycle import stop_within

TOPIC_ALREADY_EXISTS = 36


class TopicsMissing(KafkaError):  # type: ignore[misc]
    """Topics a relay or consumer needs are not on the cluster yet (`platform-topics`
    creates them). Retried like any broker error; never a reason to create them."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = sorted(missing)
        super().__init__(f"waiting for topics {', '.join(self.missing)}")


class KafkaSettings(BaseSettings):
    """Shared infrastructure settings, read from `KAFKA_*` variables (no service prefix)."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "crm-erp"
    # The embedded broker has no InitProducerId; Apache Kafka deployments turn this on.
    enable_idempotence: bool = False
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    request_timeout_ms: int = 15_000
    # The embedded broker holds a fetch for the whole wait when no data is there;
    # aiokafka's default of 500 ms costs ~130 ms of latency per event.
    fetch_max_wait_ms: int = 10
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    linger_ms: int = 0

    def _common(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            context: ssl.SSLContext = create_ssl_context(cafile=self.ssl_cafile)
            options["ssl_context"] = context
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options

    def producer(self, client_id: str) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            client_id=f"{self.client_id}-{client_id}",
            acks="all",
            enable_idempotence=self.enable_idempotence,
            linger_ms=self.linger_ms,
            **self._common(),
        )

    def consumer(self, group_id: str, *topics: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *topics,
            group_id=group_id,
            client_id=f"{self.client_id}-{group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_interval_ms,
            isolation_level="read_uncommitted",
            **self._common(),
        )

    def admin(self) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(client_id=f"{self.client_id}-admin", **self._common())


async def ensure_topics(
    settings: KafkaSettings, topics: Iterable[tuple[str, int]], replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; return the names created.

    Topics are created explicitly because brokers that auto-create them pick their own
    partition count (the embedded one uses 4), which would change the key → partition map.
    """
    wanted = dict(topics)
    admin = settings.admin()
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(name, wanted[name], replication_factor) for name in missing]
        )
        for name, code, message in _topic_errors(response):
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"creating topic {name} failed: {code} {message}")
        return missing
    finally:
        await asyncio.wait_for(admin.close(), timeout=10)


async def missing_topics(settings: KafkaSettings, names: Iterable[str]) -> list[str]:
    """Those of `names` the cluster does not have. Asking lists the cluster's topics, which
    never creates one (a client's metadata request for a topic by name can, on a broker
    that creates topics on first use, with its own partition count)."""
    wanted = sorted(set(names))
    admin = settings.admin()
    try:
        await admin.start()
        existing = set(await admin.list_topics())
    except (OSError, TimeoutError) as exc:
        # A broker error like any other to the relay and consumer, which retry those.
        raise KafkaConnectionError(f"listing topics failed: {exc!r}") from exc
    finally:
        await stop_within(admin.close())
    return [name for name in wanted if name not in existing]


async def partition_counts(settings: KafkaSettings, names: Iterable[str]) -> dict[str, int]:
    """How many partitions each of the (existing) topics has."""
    admin = settings.admin()
    await admin.start()
    try:
        described = await admin.describe_topics(list(names))
    finally:
        await asyncio.wait_for(admin.close(), timeout=10)
    return {entry["topic"]: len(entry["partitions"]) for entry in described}


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    errors = []
    for entry in response.topic_errors:
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        errors.append((name, code, message))
    return errors
