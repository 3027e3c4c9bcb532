"""The gateway passes events on as the producer wrote them: a field its copy of the
contracts does not know yet (added by a newer producer, as additive changes may) reaches
webhook receivers and the history the live stream reads."""

from __future__ import annotations

import json

import pytest

from gateway.service.history import events_after
from shared_schemas.events.base import new_event
from tests.support.gateway_events import events_settings, gateway_events, product_created
from tests.support.webhook_receiver import receiver

pytestmark = pytest.mark.api

SECRET = "whsec_as-received-secret"


async def test_fields_of_a_newer_producer_reach_receivers_and_the_stream(
    database_url: str,
) -> None:
    event = new_event(product_created(), source="erp-service", actor="erp-service")
    written = json.loads(event.model_dump_json())
    written["data"]["weight_kg"] = "12.5"  # a field this gateway's contract lacks
    written["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    raw = json.dumps(written).encode()
    async with (
        gateway_events(events_settings(database_url)) as hub,
        receiver(SECRET) as hooks,
    ):
        await hub.post(
            "/api/webhooks",
            {"url": hooks.url, "event_types": ["erp.product.*"], "secret": SECRET},
        )
        parsed = hub.applier.parse(raw)
        assert parsed is not None
        await hub.applier.apply(*parsed)
        assert await hub.dispatcher().deliver_due() == 1

        [delivered] = hooks.received
        assert delivered.signature_valid
        assert delivered.event == written
        [stored] = await events_after(hub.app.state.engine, 0, None, 10)
        assert json.loads(stored.payload) == written
