"""Text as long as the API accepts is kept on SQLite and PostgreSQL alike, also when case
folding lengthens it (`ß` is `ss`) past its search column, and stays findable by prefix:
a subject of 300 characters, a name of 200 `ß`, an email of 250 characters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.crm import Crm

pytestmark = pytest.mark.api

LONG_NAME = "ß" * 200
LONG_EMAIL = f"{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 59}.example"  # 254 characters
LONG_SUBJECT = "Damaged delivery " + "x" * 283  # 300 characters


async def created(crm: Crm, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await crm.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def found(crm: Crm, path: str, q: str, headers: dict[str, str]) -> list[str]:
    response = await crm.client.get(path, params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_longest_names_emails_and_subjects_are_kept_and_found(
    crm: Crm, sales_rep: uuid.UUID
) -> None:
    assert len(LONG_EMAIL) == 254
    sales = crm.headers("sales", sales_rep)
    customer = await created(
        crm, "/customers", {"kind": "company", "name": LONG_NAME, "email": LONG_EMAIL}, sales
    )
    assert customer["name"] == LONG_NAME
    assert await found(crm, "/customers", "SSSS", sales) == [customer["id"]]
    assert await found(crm, "/customers", LONG_EMAIL[:100], sales) == [customer["id"]]
    lead = await created(
        crm, "/leads", {"name": LONG_NAME, "company_name": LONG_NAME, "email": LONG_EMAIL}, sales
    )
    assert await found(crm, "/leads", "ßß", sales) == [lead["id"]]
    contact = await created(
        crm,
        f"/customers/{customer['id']}/contacts",
        {"name": LONG_NAME, "email": LONG_EMAIL},
        sales,
    )
    assert contact["email"] == LONG_EMAIL
    contacts = f"/customers/{customer['id']}/contacts"
    assert await found(crm, contacts, "SSSS", sales) == [contact["id"]]
    assert await found(crm, contacts, LONG_EMAIL[:100], sales) == [contact["id"]]
    support = crm.headers("support", await crm.hire("support"))
    inquiry = await created(
        crm,
        "/inquiries",
        {"channel": "email", "subject": LONG_SUBJECT, "customer_id": customer["id"]},
        support,
    )
    assert inquiry["subject"] == LONG_SUBJECT
    assert await found(crm, "/inquiries", "damaged deliv", support) == [inquiry["id"]]


async def test_a_leavers_inquiry_with_the_longest_subject_is_reassigned_and_noted(
    crm: Crm,
) -> None:
    manager = await crm.hire("support")
    leaver = await crm.hire("support", manager_id=manager)
    support = crm.headers("support", leaver)
    customer = await created(
        crm, "/customers", {"kind": "company", "name": "Long Subjects AG"}, crm.headers("admin")
    )
    inquiry = await created(
        crm,
        "/inquiries",
        {
            "channel": "email",
            "subject": LONG_SUBJECT,
            "customer_id": customer["id"],
            "assignee_id": str(leaver),
        },
        support,
    )
    await crm.terminate(leaver, manager_id=manager)

    moved = await crm.client.get(f"/inquiries/{inquiry['id']}", headers=crm.headers("admin"))
    assert moved.json()["assignee_id"] == str(manager)
    notes = await crm.client.get(
        f"/activities?customer_id={customer['id']}&kind=note", headers=crm.headers("admin")
    )
    [note] = [item["subject"] for item in notes.json()["items"]]
    assert note.startswith("Inquiry Damaged delivery xxx")
    assert note.endswith(f"reassigned to their manager ({manager})")
    assert len(note) <= 300
