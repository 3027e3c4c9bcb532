"""`platform-topics`: the catalogue's topics created with their partition counts, existing
ones checked, a wrong count reported."""

from __future__ import annotations

import uuid

import pytest

from shared_schemas.messaging import KafkaSettings
from shared_schemas.messaging.kafka import ensure_topics, partition_counts
from shared_schemas.topics import provision

pytestmark = pytest.mark.integration


async def test_missing_topics_are_created_and_a_wrong_partition_count_is_reported(
    kafka: KafkaSettings,
) -> None:
    tag = uuid.uuid4().hex[:8]
    wanted = [(f"test.{tag}.orders", 3), (f"test.{tag}.stock", 6), (f"test.{tag}.dlq", 1)]
    await ensure_topics(kafka, [(f"test.{tag}.stock", 2)])  # made earlier, by hand, wrongly

    created, mismatches = await provision(kafka, wanted, replication_factor=1)

    assert sorted(created) == [f"test.{tag}.dlq", f"test.{tag}.orders"]
    assert mismatches == [f"test.{tag}.stock: 2 partitions, the catalogue says 6"]
    counts = await partition_counts(kafka, [name for name, _ in wanted])
    assert counts == {f"test.{tag}.orders": 3, f"test.{tag}.stock": 2, f"test.{tag}.dlq": 1}

    again, still = await provision(kafka, wanted[:1] + wanted[2:], replication_factor=1)
    assert (again, still) == ([], [])
