"""What a deployment's topics step would create, read without a broker: `platform-topics` run
with the step's command line and environment, its call to the broker replaced by a record of
what it was asked for; and the topics the platform needs, from the catalogue and the event
contracts."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared_schemas import topics as topics_command
from shared_schemas.events.catalogue import (
    CONSUMER_GROUPS,
    DEFAULT_PARTITIONS,
    TOPICS,
    dlq_topic,
    topic,
)
from shared_schemas.events.registry import EVENT_TYPES
from shared_schemas.messaging.kafka import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "platform-topics"


@dataclass(frozen=True)
class TopicPlan:
    """What the command would provision: on which cluster, which topics, how replicated."""

    settings: KafkaSettings
    topics: list[tuple[str, int]]
    replication_factor: int


def planned_topics(
    command: Sequence[str], environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch
) -> TopicPlan:
    """Run `command` (the console script and its arguments) as the step would, with
    `environment` as its only `KAFKA_*` settings; what it would have provisioned."""
    scripts = tomllib.loads((ROOT / "shared-schemas" / "pyproject.toml").read_text())
    assert command[0] == COMMAND, f"the topics step runs {list(command)}"
    entry = f"{topics_command.__name__}:{topics_command.main.__name__}"
    assert scripts["project"]["scripts"][COMMAND] == entry, f"{COMMAND} is not {entry}"
    plans: list[TopicPlan] = []

    async def provision(
        settings: KafkaSettings, topics: list[tuple[str, int]], replication_factor: int
    ) -> tuple[list[str], list[str]]:
        plans.append(TopicPlan(settings, list(topics), replication_factor))
        return [], []

    with monkeypatch.context() as scoped:
        for name in list(os.environ):
            if name.upper().startswith("KAFKA_"):
                scoped.delenv(name)
        for name, value in environment.items():
            scoped.setenv(name, value)
        scoped.setattr(topics_command, "provision", provision)
        scoped.setattr(sys, "argv", list(command))
        topics_command.main()
    (plan,) = plans
    return plan


def needed_topics() -> list[tuple[str, int]]:
    """Every topic the platform needs with its partition count, sorted: each catalogue
    topic, each topic an event contract is published on (which must be a catalogue topic),
    and each consumer group's dead-letter topic."""
    needed = {(entry.name, entry.partitions) for entry in TOPICS}
    needed |= {(model.topic, topic(model.topic).partitions) for model in EVENT_TYPES.values()}
    needed |= {(dlq_topic(group), DEFAULT_PARTITIONS) for group in CONSUMER_GROUPS}
    return sorted(needed)
