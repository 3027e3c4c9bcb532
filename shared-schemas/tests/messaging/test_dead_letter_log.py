"""The dead-letter log holds each message a consumer gave up on once: a record redone
after a crash is not logged twice, while another message at a position the log already
holds (a broker that lost its log starts offsets anew) is logged as a letter of its own."""

from __future__ import annotations

import hashlib

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncEngine

from shared_schemas.messaging.dead_letters import DeadLetter, DeadLetterLog
from tests.support.probe import ProbeService

pytestmark = pytest.mark.integration

GIVEN_UP = DeadLetter(reason="malformed", error="not JSON", attempts=1)


def at(offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="crm.lead.v1",
        partition=2,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"lead-1",
        value=value,
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=len(value),
        headers=[],
    )


async def test_a_message_is_logged_once_and_a_reused_offset_is_another_letter(
    engine: AsyncEngine, probe: ProbeService
) -> None:
    log = DeadLetterLog(engine, probe.tables.dead_letters, "crm-service")

    await log.record(at(7, b"{broken"), GIVEN_UP)
    await log.record(at(7, b"{broken"), GIVEN_UP)  # redone after a crash: the same letter
    # The broker lost its log; offset 7 now holds another unreadable message.
    await log.record(at(7, b"{also broken"), GIVEN_UP)

    letters = await log.page(limit=10, after_id=None, status=None)
    assert [(letter["offset"], letter["error"]) for letter in letters] == [
        (7, "not JSON"),
        (7, "not JSON"),
    ]
    assert len({letter["id"] for letter in letters}) == 2
    assert {letter["value_digest"] for letter in letters} == {
        hashlib.sha256(value).hexdigest() for value in (b"{broken", b"{also broken")
    }
