"""An activity is logged only on a record its author may read (design §7: what a role may
not see is not found, and nothing may tell it exists): support, which reads no leads or
opportunities, is refused alike whether the record exists or not, and nothing is logged."""

from __future__ import annotations

import uuid

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api


async def test_an_activity_links_only_records_its_author_may_read(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    rep = crm.headers("sales", sales_rep)
    lead = await crm.client.post("/leads", json={"name": "Hidden Lead"}, headers=rep)
    assert lead.status_code == 201, lead.text
    customer = await crm.client.post(
        "/customers", json={"kind": "company", "name": "Acme GmbH"}, headers=rep
    )
    assert customer.status_code == 201, customer.text
    deal = await crm.client.post(
        "/opportunities",
        json={"name": "Deal", "customer_id": customer.json()["id"], "amount": "10.00"},
        headers=rep,
    )
    assert deal.status_code == 201, deal.text
    support = crm.headers("support", await crm.hire("support"))

    for field, existing in (("lead_id", lead.json()["id"]), ("opportunity_id", deal.json()["id"])):
        answers = [
            await crm.client.post(
                "/activities",
                json={"kind": "note", "subject": "Probe", field: record_id},
                headers=support,
            )
            for record_id in (existing, str(uuid.uuid4()))
        ]
        assert [answer.status_code for answer in answers] == [403, 403], field
        assert answers[0].json()["detail"] == answers[1].json()["detail"], field
    listed = await crm.client.get("/activities", headers=crm.headers("admin"))
    assert listed.json()["items"] == []
    # A customer support reads takes their activities, and sales log on leads as before.
    logged = await crm.client.post(
        "/activities",
        json={"kind": "call", "subject": "Called", "customer_id": customer.json()["id"]},
        headers=support,
    )
    assert logged.status_code == 201, logged.text
    on_lead = await crm.client.post(
        "/activities",
        json={"kind": "call", "subject": "Called", "lead_id": lead.json()["id"]},
        headers=rep,
    )
    assert on_lead.status_code == 201, on_lead.text
