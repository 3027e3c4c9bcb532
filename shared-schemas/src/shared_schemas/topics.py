"""`platform-topics`: create the catalogue's topics (and every consumer group's dead-letter
topic) on a Kafka cluster with their partition counts, and check the ones that exist.

Run once per deployment before the services start (compose and Kubernetes do), with the
same `KAFKA_*` settings as the services. A topic with another partition count than the
catalogue's is reported and the command fails: the key → partition map, and with it the
order of each aggregate's events, depends on that count; fixing it is a migration of its
own (docs/operations.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared_schemas.events.catalogue import all_topics
from shared_schemas.messaging.kafka import KafkaSettings, ensure_topics, partition_counts


async def provision(
    settings: KafkaSettings, topics: list[tuple[str, int]], replication_factor: int
) -> tuple[list[str], list[str]]:
    """Create the missing topics; (created, mismatches described)."""
    created = await ensure_topics(settings, topics, replication_factor)
    found = await partition_counts(settings, [name for name, _ in topics])
    mismatches = [
        f"{name}: {found.get(name, 0)} partitions, the catalogue says {partitions}"
        for name, partitions in topics
        if found.get(name) != partitions
    ]
    return created, mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--replication-factor", type=int, default=1, help="for the topics created (default 1)"
    )
    args = parser.parse_args()
    created, mismatches = asyncio.run(
        provision(KafkaSettings(), all_topics(), args.replication_factor)
    )
    print("topics created:", ", ".join(created) or "none (all exist)")
    if mismatches:
        print("topics with the wrong partition count:", *mismatches, sep="\n  ", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
