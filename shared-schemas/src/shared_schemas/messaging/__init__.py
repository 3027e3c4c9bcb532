"""The messaging runtime every service uses: outbox, relay, idempotent consumer, DLQ, jobs."""

from shared_schemas.database import is_database_outage
from shared_schemas.messaging.applier import (
    BatchHandler,
    EventApplier,
    Handler,
    Outcome,
    batched,
    context_of,
)
from shared_schemas.messaging.consumer import Consumer
from shared_schemas.messaging.context import (
    EventContext,
    current_event_context,
    event_context,
    recorded_as,
)
from shared_schemas.messaging.dead_letters import (
    DeadLetter,
    DeadLetterLog,
    NotReplayable,
    UnknownDeadLetter,
)
from shared_schemas.messaging.jobs import JobRunner, PeriodicJob
from shared_schemas.messaging.kafka import KafkaSettings, ensure_topics
from shared_schemas.messaging.outbox import MAX_EVENT_BYTES, EventTooLarge, Outbox
from shared_schemas.messaging.relay import PendingEvent, Relay, prune_published, republish
from shared_schemas.messaging.tables import (
    KEY_BUCKETS,
    MessagingTables,
    key_bucket,
    messaging_tables,
)
from shared_schemas.messaging.workers import Workers, run_background, serve_process_metrics

__all__ = [
    "KEY_BUCKETS",
    "MAX_EVENT_BYTES",
    "BatchHandler",
    "Consumer",
    "DeadLetter",
    "DeadLetterLog",
    "EventApplier",
    "EventContext",
    "EventTooLarge",
    "Handler",
    "JobRunner",
    "KafkaSettings",
    "MessagingTables",
    "NotReplayable",
    "Outbox",
    "Outcome",
    "PendingEvent",
    "PeriodicJob",
    "Relay",
    "UnknownDeadLetter",
    "Workers",
    "batched",
    "context_of",
    "current_event_context",
    "ensure_topics",
    "event_context",
    "is_database_outage",
    "key_bucket",
    "messaging_tables",
    "prune_published",
    "recorded_as",
    "republish",
    "run_background",
    "serve_process_metrics",
]
