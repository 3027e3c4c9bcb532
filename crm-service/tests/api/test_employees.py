"""`/employees` in CRM: the employees ERP announced, to pick owners and assignees from;
filtered, searched, paged; read-only and without a salary."""

from __future__ import annotations

import uuid

import pytest

from tests.support.crm import Crm
from tests.support.kafka_tools import eventually

pytestmark = pytest.mark.api


async def test_pickers_list_the_employees_erp_announced_with_their_current_state(
    crm: Crm,
) -> None:
    manager = await crm.hire("sales_manager", name="Maren Vogt")
    rep = await crm.hire("sales", manager_id=manager, name="Ravi Shah")
    agent = await crm.hire("support", name="Ines Moreau")
    leaver = await crm.hire("sales", manager_id=manager, name="Lars Berg")
    await crm.terminate(leaver, manager_id=manager)

    everyone = await crm.client.get("/employees", headers=crm.headers("sales"))
    assert everyone.status_code == 200, everyone.text
    names = [employee["name"] for employee in everyone.json()["items"]]
    assert names == ["Ines Moreau", "Leaver", "Maren Vogt", "Ravi Shah"]  # by name

    owners = await crm.client.get(
        "/employees",
        params={"role": ["sales", "sales_manager"], "status": "active"},
        headers=crm.headers("sales"),
    )
    assert {e["id"] for e in owners.json()["items"]} == {str(manager), str(rep)}
    assert all("salary" not in employee for employee in owners.json()["items"])

    reports = await crm.client.get(
        "/employees", params={"manager_id": str(manager)}, headers=crm.headers("support")
    )
    assert {e["id"] for e in reports.json()["items"]} == {str(rep), str(leaver)}

    found = await crm.client.get("/employees", params={"q": "  RAVI"}, headers=crm.headers("sales"))
    assert [e["id"] for e in found.json()["items"]] == [str(rep)]

    one = await crm.client.get(f"/employees/{agent}", headers=crm.headers("support"))
    assert one.status_code == 200
    assert (one.json()["role"], one.json()["status"]) == ("support", "active")
    gone = await crm.client.get(f"/employees/{leaver}", headers=crm.headers("sales"))
    assert gone.json()["status"] == "terminated"


async def test_employees_page_by_cursor_and_unknown_ones_are_404(crm: Crm) -> None:
    for index in range(5):
        await crm.hire("sales", name=f"Rep {index}")
    first = await crm.client.get("/employees", params={"limit": 2}, headers=crm.headers("sales"))
    second = await crm.client.get(
        "/employees",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=crm.headers("sales"),
    )
    assert [e["name"] for e in first.json()["items"] + second.json()["items"]] == [
        f"Rep {index}" for index in range(4)
    ]
    missing = await crm.client.get(f"/employees/{uuid.uuid4()}", headers=crm.headers("sales"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = await crm.client.get("/employees", params={"role": "pilot"}, headers=crm.headers("sales"))
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("role", "expected"),
    [("admin", 200), ("sales_manager", 200), ("support", 200), ("finance", 403), ("hr", 403)],
)
async def test_who_may_read_the_employees_crm_knows(crm: Crm, role: str, expected: int) -> None:
    response = await crm.client.get("/employees", headers=crm.headers(role))
    assert response.status_code == expected


async def test_employees_cannot_be_changed_in_crm(crm: Crm) -> None:
    rep = await crm.hire("sales")
    created = await crm.client.post(
        "/employees", json={"name": "X", "role": "sales"}, headers=crm.headers("admin")
    )
    assert created.status_code == 405
    changed = await crm.client.patch(
        f"/employees/{rep}", json={"name": "Y"}, headers=crm.headers("admin")
    )
    assert changed.status_code == 405
    unchanged = await crm.client.get(f"/employees/{rep}", headers=crm.headers("admin"))
    assert unchanged.json()["name"] == "Rep"
    listed = await crm.client.get("/employees", headers=crm.headers("admin"))
    assert [employee["id"] for employee in listed.json()["items"]] == [str(rep)]


async def test_a_leavers_tokens_stop_working_once_erp_says_they_left(crm: Crm) -> None:
    manager = await crm.hire("sales_manager", name="Maren Vogt")
    leaver = await crm.hire("sales", manager_id=manager, name="Lars Berg")
    leavers_token = crm.headers("sales", leaver)
    assert (await crm.client.get("/customers", headers=leavers_token)).status_code == 200

    await crm.terminate(leaver, manager_id=manager)

    async def refused() -> bool:
        response = await crm.client.get("/customers", headers=leavers_token)
        return response.status_code == 401

    await eventually(refused, timeout=10, what="the leaver's token refused")
    managers_token = crm.headers("sales_manager", manager)
    assert (await crm.client.get("/customers", headers=managers_token)).status_code == 200


async def test_employee_search_folds_case_beyond_ascii_as_every_other_search(crm: Crm) -> None:
    # `q` is a case-insensitive prefix, as on customers and leads: an accented capital and
    # a sharp s are found however the picker spells them.
    oezlem = await crm.hire("sales", name="Özlem Groß")
    await crm.hire("sales", name="Otto Gross")

    for q in ("özlem", "ÖZLEM GROSS", "Özlem  Groß"):
        found = await crm.client.get("/employees", params={"q": q}, headers=crm.headers("sales"))
        assert found.status_code == 200, found.text
        assert [e["id"] for e in found.json()["items"]] == [str(oezlem)], q
