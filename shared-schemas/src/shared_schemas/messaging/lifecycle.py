"""Bounded shutdown of clients whose peer may be gone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)


async def stop_within(closing: Awaitable[Any], seconds: float = 10.0) -> None:
    """Await `closing`, giving up after `seconds`: stopping a Kafka client whose broker is
    gone can wait for a long time, and a process shutdown must not."""
    try:
        await asyncio.wait_for(closing, timeout=seconds)
    except Exception as exc:
        log.warning("shutdown step abandoned: %s", exc)
