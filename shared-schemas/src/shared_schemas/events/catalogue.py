"""The topic catalogue: every topic, who publishes to it, and its partition count."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PARTITIONS = 3

CONSUMER_GROUPS = ("crm-service", "erp-service", "gateway")
"""The platform's own consumer groups; each has a dead-letter topic."""


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    description: str
    partitions: int = DEFAULT_PARTITIONS


TOPICS: tuple[Topic, ...] = (
    Topic("crm.customer", "crm-service", "Customers: created, updated (full state), archived."),
    Topic("crm.lead", "crm-service", "Leads: created, qualified, converted, disqualified."),
    Topic("crm.opportunity", "crm-service", "Opportunities: stage changes, won, lost."),
    Topic("crm.quote", "crm-service", "Quotes: sent, accepted (with customer snapshot), ..."),
    Topic("crm.inquiry", "crm-service", "Support cases: opened, resolved."),
    Topic("erp.product", "erp-service", "Products: created, updated (full state)."),
    Topic("erp.order", "erp-service", "Sales orders through their life cycle, shipments."),
    Topic("erp.stock", "erp-service", "Stock running low, manual adjustments."),
    Topic("erp.invoice", "erp-service", "Invoices and the payments applied to them."),
    Topic("erp.employee", "erp-service", "Employees hired, updated, terminated (no salary)."),
)

TOPIC_NAMES = frozenset(topic.name for topic in TOPICS)


def dlq_topic(group: str) -> str:
    """The dead-letter topic of a consumer group."""
    return f"dlq.{group}"


def all_topics() -> list[tuple[str, int]]:
    """(name, partitions) of every topic to create: the catalogue and each group's DLQ."""
    topics = [(topic.name, topic.partitions) for topic in TOPICS]
    topics += [(dlq_topic(group), DEFAULT_PARTITIONS) for group in CONSUMER_GROUPS]
    return topics


def topic(name: str) -> Topic:
    for candidate in TOPICS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
