"""Employees and departments through the HTTP API: hired, changed and terminated with
their events (never the salary), the reporting lines, and who sees and sets what."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared_schemas.permissions import PERMISSIONS, grant
from shared_schemas.roles import Role
from tests.support.erp import Erp
from tests.support.kafka_tools import eventually

pytestmark = pytest.mark.api

OTHER_ROLES = ("sales", "sales_manager", "support", "warehouse", "finance")


def today() -> date:
    return datetime.now(UTC).date()


async def hire(
    erp: Erp,
    name: str,
    *,
    role: str = "sales",
    manager: Mapping[str, Any] | None = None,
    department: Mapping[str, Any] | None = None,
    salary: str | None = "50000.00",
    **fields: Any,
) -> dict[str, Any]:
    """An employee hired by hr through `POST /employees`."""
    body: dict[str, Any] = {
        "name": name,
        "email": f"{name.lower().replace(' ', '.')}@example.com",
        "role": role,
        **fields,
    }
    if manager is not None:
        body["manager_id"] = manager["id"]
    if department is not None:
        body["department_id"] = department["id"]
    if salary is not None:
        body["salary"] = salary
    return await erp.post("/employees", body, role="hr")


async def patch(
    erp: Erp, path: str, body: Mapping[str, Any], *, role: str = "hr", version: int | None = None
) -> httpx.Response:
    headers = erp.headers(role)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return await erp.client.patch(path, json=dict(body), headers=headers)


async def terminate(
    erp: Erp, employee: Mapping[str, Any], body: Mapping[str, Any] | None = None
) -> httpx.Response:
    return await erp.client.post(
        f"/employees/{employee['id']}/terminate", json=body, headers=erp.headers("hr")
    )


async def listed(erp: Erp, query: str, role: str = "hr") -> list[dict[str, Any]]:
    response = await erp.client.get(f"/employees{query}", headers=erp.headers(role))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


async def test_hiring_publishes_the_employee_with_the_manager_and_without_salary(
    erp: Erp,
) -> None:
    sales = await erp.post("/departments", {"name": "Sales"}, role="hr")
    boss = await hire(erp, "Berta Boss", role="sales_manager", department=sales)
    rep = await hire(
        erp,
        "Rudi Rep",
        manager=boss,
        department=sales,
        title="Account Executive",
        hired_on="2026-03-01",
        salary="58000.00",
    )
    assert rep["salary"] == "58000.00"
    assert rep["currency"] == "EUR"
    assert rep["status"] == "active"
    assert rep["version"] == 1
    hired = await erp.events("erp.employee.hired.v1")
    assert [event["subject"] for event in hired] == [boss["id"], rep["id"]]
    assert hired[1]["data"] == {
        "version": 1,
        "employee_id": rep["id"],
        "name": "Rudi Rep",
        "email": "rudi.rep@example.com",
        "department_id": sales["id"],
        "manager_id": boss["id"],
        "title": "Account Executive",
        "role": "sales",
        "hired_on": "2026-03-01",
        "status": "active",
        "terminated_on": None,
    }
    assert boss["hired_on"] == today().isoformat()
    assert "salary" not in json.dumps(hired)
    one = await erp.client.get(f"/employees/{rep['id']}", headers=erp.headers("hr"))
    assert one.status_code == 200
    assert one.headers["etag"] == '"1"'
    assert one.json() == rep


async def test_a_change_publishes_the_full_state_and_if_match_guards_it(erp: Erp) -> None:
    boss = await hire(erp, "Berta Boss", role="sales_manager")
    rep = await hire(erp, "Rudi Rep")
    path = f"/employees/{rep['id']}"
    changed = await patch(erp, path, {"manager_id": boss["id"], "title": "Key Accounts"}, version=1)
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["manager_id"] == boss["id"]
    [updated] = await erp.events("erp.employee.updated.v1")
    assert updated["subject"] == rep["id"]
    assert updated["data"] == {
        "version": 2,
        "employee_id": rep["id"],
        "name": "Rudi Rep",
        "email": "rudi.rep@example.com",
        "department_id": None,
        "manager_id": boss["id"],
        "title": "Key Accounts",
        "role": "sales",
        "hired_on": rep["hired_on"],
        "status": "active",
        "terminated_on": None,
    }
    stale = await patch(erp, path, {"title": "Something else"}, version=1)
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    # A raise is no other service's business: the version moves, no event tells of it.
    raised = await patch(erp, path, {"salary": "61000.00"}, version=2)
    assert raised.status_code == 200
    assert raised.json()["salary"] == "61000.00"
    assert raised.headers["etag"] == '"3"'
    unchanged = await patch(erp, path, {"title": "Key Accounts"}, version=3)
    assert unchanged.headers["etag"] == '"3"'
    promoted = await patch(erp, path, {"role": "sales_manager", "manager_id": None}, version=3)
    assert promoted.status_code == 200
    updates = await erp.events("erp.employee.updated.v1")
    assert [event["data"]["version"] for event in updates] == [2, 4]
    assert updates[1]["data"]["role"] == "sales_manager"
    assert updates[1]["data"]["manager_id"] is None
    assert "salary" not in json.dumps(updates)
    before = await erp.client.get(path, headers=erp.headers("hr"))
    events = await erp.events()
    for body in ({"status": "terminated"}, {"name": None}, {"role": "pilot"}, {"salary": "-1"}):
        refused = await patch(erp, path, body)
        assert refused.status_code == 422, body
    # Nothing of the refused changes took effect.
    after = await erp.client.get(path, headers=erp.headers("hr"))
    assert (after.json(), after.headers["etag"]) == (before.json(), before.headers["etag"])
    assert await erp.events() == events
    missing = await patch(erp, f"/employees/{uuid.uuid4()}", {"title": "x"})
    assert missing.status_code == 404


async def test_terminating_publishes_once_and_a_second_time_is_a_conflict(erp: Erp) -> None:
    rep = await hire(erp, "Rudi Rep", hired_on="2024-03-01")
    before_hire = await terminate(erp, rep, {"terminated_on": "2024-02-28"})
    assert before_hire.status_code == 422
    assert before_hire.json()["errors"][0]["field"] == "terminated_on"
    ahead = (today() + timedelta(days=7)).isoformat()
    assert (await terminate(erp, rep, {"terminated_on": ahead})).status_code == 422
    done = await terminate(erp, rep, {"terminated_on": "2026-06-30", "reason": "Resigned"})
    assert done.status_code == 200, done.text
    left = done.json()
    assert left["status"] == "terminated"
    assert left["terminated_on"] == "2026-06-30"
    assert left["termination_reason"] == "Resigned"
    assert done.headers["etag"] == '"2"'
    [event] = await erp.events("erp.employee.terminated.v1")
    assert event["data"]["status"] == "terminated"
    assert event["data"]["terminated_on"] == "2026-06-30"
    assert event["data"]["version"] == 2
    assert "salary" not in event["data"]
    again = await terminate(erp, rep)
    assert again.status_code == 409
    assert again.json()["current_status"] == "terminated"
    assert again.json()["allowed"] == []
    assert len(await erp.events("erp.employee.terminated.v1")) == 1
    # The status changes only through the transition route.
    assert (await patch(erp, f"/employees/{rep['id']}", {"status": "active"})).status_code == 422
    other = await hire(erp, "Otto Other")
    today_by_default = await terminate(erp, other)
    assert today_by_default.json()["terminated_on"] == today().isoformat()
    steve = await hire(erp, "Stale Steve")
    stale = await erp.client.post(
        f"/employees/{steve['id']}/terminate",
        headers={**erp.headers("hr"), "If-Match": '"7"'},
    )
    assert stale.status_code == 412
    still = await erp.client.get(f"/employees/{steve['id']}", headers=erp.headers("hr"))
    assert (still.json()["status"], still.json()["version"]) == ("active", steve["version"])
    terminated = await erp.events("erp.employee.terminated.v1")
    assert steve["id"] not in {event["subject"] for event in terminated}


async def test_a_leavers_reports_move_to_the_leavers_manager(erp: Erp) -> None:
    boss = await hire(erp, "Berta Boss", role="sales_manager")
    lead = await hire(erp, "Lena Lead", role="sales_manager", manager=boss)
    reps = [await hire(erp, f"Rep {n}", manager=lead) for n in (1, 2)]
    loner = await hire(erp, "Lone Lead", role="sales_manager")
    orphan = await hire(erp, "Olga Orphan", manager=loner)
    assert (await terminate(erp, lead)).status_code == 200
    after = {
        item["id"]: item for item in await listed(erp, f"?manager_id={boss['id']}&status=active")
    }
    assert set(after) == {reps[0]["id"], reps[1]["id"]}
    assert all(item["version"] == 2 for item in after.values())
    updated = await erp.events("erp.employee.updated.v1")
    assert {event["subject"] for event in updated} == {rep["id"] for rep in reps}
    assert all(event["data"]["manager_id"] == boss["id"] for event in updated)
    # A leaver without a manager leaves their reports with none.
    assert (await terminate(erp, loner)).status_code == 200
    moved = await erp.client.get(f"/employees/{orphan['id']}", headers=erp.headers("hr"))
    assert moved.json()["manager_id"] is None


async def test_a_manager_is_an_active_employee_the_employee_does_not_manage(erp: Erp) -> None:
    ceo = await hire(erp, "Cleo Ceo", role="admin")
    vp = await hire(erp, "Vic Vp", role="sales_manager", manager=ceo)
    rep = await hire(erp, "Rudi Rep", manager=vp)
    gone = await hire(erp, "Gina Gone")
    assert (await terminate(erp, gone)).status_code == 200

    async def refused(employee: Mapping[str, Any] | None, manager_id: object) -> str:
        if employee is None:
            response = await erp.client.post(
                "/employees",
                json={
                    "name": "New Hire",
                    "email": "new@example.com",
                    "role": "sales",
                    "manager_id": str(manager_id),
                },
                headers=erp.headers("hr"),
            )
        else:
            response = await patch(
                erp, f"/employees/{employee['id']}", {"manager_id": str(manager_id)}
            )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "manager_id"
        return str(error["message"])

    assert await refused(None, uuid.uuid4()) == "no such employee"
    assert await refused(None, gone["id"]) == "not active"
    assert await refused(rep, uuid.uuid4()) == "no such employee"
    assert await refused(rep, gone["id"]) == "not active"
    assert await refused(rep, rep["id"]) == "is the employee"
    assert await refused(vp, rep["id"]) == "would make a cycle"
    assert await refused(ceo, rep["id"]) == "would make a cycle"
    assert await erp.events("erp.employee.updated.v1") == []
    assert len(await erp.events("erp.employee.hired.v1")) == 4  # none of the refused hires
    # Moving someone within the tree is fine.
    moved = await patch(erp, f"/employees/{rep['id']}", {"manager_id": ceo["id"]})
    assert moved.status_code == 200, moved.text
    now_fine = await patch(erp, f"/employees/{vp['id']}", {"manager_id": None})
    assert now_fine.status_code == 200, now_fine.text
    turned = await patch(erp, f"/employees/{ceo['id']}", {"manager_id": vp["id"]})
    assert turned.status_code == 200, turned.text
    managers = {}
    for employee in (rep, vp, ceo):
        now = await erp.client.get(f"/employees/{employee['id']}", headers=erp.headers("hr"))
        managers[employee["id"]] = now.json()["manager_id"]
    assert managers == {rep["id"]: ceo["id"], vp["id"]: None, ceo["id"]: vp["id"]}


async def test_salary_is_for_hr_and_admin_and_no_other_role_uses_the_routes(erp: Erp) -> None:
    rep = await hire(erp, "Rudi Rep", salary="52000.00")
    department = await erp.post("/departments", {"name": "Sales"}, role="hr")
    for role in ("hr", "admin"):
        headers = erp.headers(role)
        [item] = (await erp.client.get("/employees", headers=headers)).json()["items"]
        assert item["salary"] == "52000.00"
        one = await erp.client.get(f"/employees/{rep['id']}", headers=headers)
        assert one.json()["salary"] == "52000.00"
    unrecorded = await hire(erp, "Nora Nosalary", salary=None)
    assert "salary" in unrecorded
    assert unrecorded["salary"] is None
    body = {"name": "X", "email": "x@example.com", "role": "sales"}
    for role in OTHER_ROLES:
        headers = erp.headers(role)
        for response in (
            await erp.client.get("/employees", headers=headers),
            await erp.client.get(f"/employees/{rep['id']}", headers=headers),
            await erp.client.post("/employees", json=body, headers=headers),
            await erp.client.patch(f"/employees/{rep['id']}", json={"title": "x"}, headers=headers),
            await erp.client.post(f"/employees/{rep['id']}/terminate", headers=headers),
            await erp.client.get("/departments", headers=headers),
            await erp.client.get(f"/departments/{department['id']}", headers=headers),
            await erp.client.post("/departments", json={"name": "Y"}, headers=headers),
            await erp.client.patch(
                f"/departments/{department['id']}", json={"name": "Z"}, headers=headers
            ),
        ):
            assert response.status_code == 403, (role, response.request.url)
    assert (await erp.client.get("/employees")).status_code == 401


async def test_were_another_role_to_read_and_change_employees_it_would_see_no_salary(
    erp: Erp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No role but hr and admin may use the routes today (design §7). The table decides,
    not the routes: a role it let read and change employees would get no salary field at
    all and a 403 naming each field only hr and admin may set."""
    boss = await hire(erp, "Berta Boss", role="sales_manager")
    rep = await hire(erp, "Rudi Rep", salary="52000.00")
    manager = Role.SALES_MANAGER
    widened = (*PERMISSIONS[manager], grant("erp", "employees", ("read", "update")))
    monkeypatch.setitem(PERMISSIONS, manager, widened)  # type: ignore[arg-type]
    headers = erp.headers("sales_manager")
    page = (await erp.client.get("/employees?sort=name", headers=headers)).json()
    assert [item["name"] for item in page["items"]] == ["Berta Boss", "Rudi Rep"]
    assert all("salary" not in item for item in page["items"])
    one = await erp.client.get(f"/employees/{rep['id']}", headers=headers)
    assert one.status_code == 200
    assert "salary" not in one.json()
    assert one.json()["manager_id"] is None
    path = f"/employees/{rep['id']}"
    for field, value in (("salary", "1.00"), ("role", "admin"), ("manager_id", boss["id"])):
        refused = await patch(erp, path, {"title": "x", field: value}, role="sales_manager")
        assert refused.status_code == 403, field
        assert refused.json()["errors"] == [
            {"field": field, "message": "not allowed for your role"}
        ]
        assert field in refused.json()["detail"]
    retitled = await patch(erp, path, {"title": "Senior Rep"}, role="sales_manager")
    assert retitled.status_code == 200
    assert "salary" not in retitled.json()
    assert retitled.json()["title"] == "Senior Rep"
    hr_view = await erp.client.get(path, headers=erp.headers("hr"))
    assert hr_view.json()["salary"] == "52000.00"
    assert hr_view.json()["manager_id"] is None


async def test_an_idempotency_key_makes_a_retried_hire_one_employee(erp: Erp) -> None:
    body = {"name": "Ida Idem", "email": "ida@example.com", "role": "support"}
    headers = {**erp.headers("hr"), "Idempotency-Key": f"hire-{uuid.uuid4()}"}
    first = await erp.client.post("/employees", json=body, headers=headers)
    again = await erp.client.post("/employees", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    changed = await erp.client.post("/employees", json={**body, "title": "Agent"}, headers=headers)
    assert changed.status_code == 422
    assert len(await erp.events("erp.employee.hired.v1")) == 1


async def test_email_is_unique_whatever_the_case_and_ids_may_be_given(erp: Erp) -> None:
    first = await hire(erp, "Anna Alpha")
    clash = await erp.client.post(
        "/employees",
        json={"name": "Anna Other", "email": "ANNA.Alpha@example.com", "role": "sales"},
        headers=erp.headers("hr"),
    )
    assert clash.status_code == 409
    assert clash.json()["existing_id"] == first["id"]
    second = await hire(erp, "Bert Beta")
    taken = await patch(erp, f"/employees/{second['id']}", {"email": "anna.alpha@example.com"})
    assert taken.status_code == 409
    recased = await patch(erp, f"/employees/{first['id']}", {"email": "Anna.Alpha@example.com"})
    assert recased.status_code == 200
    assert recased.json()["email"] == "Anna.Alpha@example.com"
    # Development employees are created under fixed ids.
    fixed = uuid.UUID("d0000000-0000-4000-8000-000000000002")
    known = await hire(erp, "Dev Sales", id=str(fixed))
    assert known["id"] == str(fixed)
    [event] = [e for e in await erp.events("erp.employee.hired.v1") if e["subject"] == str(fixed)]
    assert event["data"]["employee_id"] == str(fixed)
    twice = await erp.client.post(
        "/employees",
        json={"id": str(fixed), "name": "Dev Again", "email": "again@example.com", "role": "hr"},
        headers=erp.headers("hr"),
    )
    assert twice.status_code == 409
    assert twice.json()["existing_id"] == str(fixed)
    unknown_department = await erp.client.post(
        "/employees",
        json={
            "name": "Dora Dept",
            "email": "dora@example.com",
            "role": "sales",
            "department_id": str(uuid.uuid4()),
        },
        headers=erp.headers("hr"),
    )
    assert unknown_department.status_code == 422
    assert unknown_department.json()["errors"][0]["field"] == "department_id"
    negative = await erp.client.post(
        "/employees",
        json={"name": "Neg", "email": "neg@example.com", "role": "sales", "salary": "-5.00"},
        headers=erp.headers("hr"),
    )
    assert negative.status_code == 422


async def test_employees_are_listed_filtered_searched_and_paged(erp: Erp) -> None:
    sales = await erp.post("/departments", {"name": "Sales"}, role="hr")
    support = await erp.post("/departments", {"name": "Support"}, role="hr")
    boss = await hire(erp, "Berta Boss", role="sales_manager", department=sales)
    await hire(erp, "Carl Closer", manager=boss, department=sales, hired_on="2025-01-15")
    await hire(erp, "Anna Agent", role="support", department=support, hired_on="2024-05-01")
    gone = await hire(erp, "Dirk Departed", manager=boss, department=sales)
    assert (await terminate(erp, gone)).status_code == 200
    await hire(erp, "Xena", email="zed@example.com", role="warehouse")

    assert names(await listed(erp, "?sort=name")) == [
        "Anna Agent",
        "Berta Boss",
        "Carl Closer",
        "Dirk Departed",
        "Xena",
    ]
    by_hire = names(await listed(erp, "?sort=hired_on"))
    assert by_hire[:2] == ["Anna Agent", "Carl Closer"]
    assert names(await listed(erp, "?status=terminated")) == ["Dirk Departed"]
    both = await listed(erp, "?status=active&status=terminated&sort=name")
    assert len(both) == 5
    assert names(await listed(erp, f"?department_id={support['id']}")) == ["Anna Agent"]
    assert names(await listed(erp, f"?manager_id={boss['id']}&status=active")) == ["Carl Closer"]
    assert names(await listed(erp, "?role=support&role=warehouse&sort=name")) == [
        "Anna Agent",
        "Xena",
    ]
    assert names(await listed(erp, "?q=carl")) == ["Carl Closer"]
    assert names(await listed(erp, "?q=ZED@")) == ["Xena"]
    assert names(await listed(erp, "?q=b&sort=name")) == ["Berta Boss"]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", "sort": "name", **({"cursor": cursor} if cursor else {})}
        response = await erp.client.get("/employees", params=params, headers=erp.headers("hr"))
        page = response.json()
        assert len(page["items"]) <= 2
        seen += names(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Anna Agent", "Berta Boss", "Carl Closer", "Dirk Departed", "Xena"]

    headers = erp.headers("hr")
    for bad in ("?status=fired", "?role=pilot", "?sort=salary", "?limit=201", "?cursor=nope"):
        assert (await erp.client.get(f"/employees{bad}", headers=headers)).status_code == 422, bad
    assert (await erp.client.get(f"/employees/{uuid.uuid4()}", headers=headers)).status_code == 404


async def test_departments_are_unique_by_name_and_form_a_tree(erp: Erp) -> None:
    company = await erp.post("/departments", {"name": "Company"}, role="hr")
    sales = await erp.post("/departments", {"name": "Sales", "parent_id": company["id"]}, "hr")
    inside = await erp.post("/departments", {"name": "Inside Sales", "parent_id": sales["id"]})
    assert inside["parent_id"] == sales["id"]
    assert inside["version"] == 1
    headers = erp.headers("hr")
    clash = await erp.client.post("/departments", json={"name": " sales "}, headers=headers)
    assert clash.status_code == 409
    assert clash.json()["existing_id"] == sales["id"]
    orphan = await erp.client.post(
        "/departments", json={"name": "Nowhere", "parent_id": str(uuid.uuid4())}, headers=headers
    )
    assert orphan.status_code == 422
    assert orphan.json()["errors"][0]["field"] == "parent_id"

    async def moved(department: Mapping[str, Any], parent: Mapping[str, Any]) -> httpx.Response:
        return await patch(erp, f"/departments/{department['id']}", {"parent_id": parent["id"]})

    assert (await moved(sales, sales)).json()["errors"][0]["message"] == "is the department"
    assert (await moved(company, inside)).json()["errors"][0]["message"] == "would make a cycle"
    renamed = await patch(
        erp, f"/departments/{inside['id']}", {"name": "Sales Development"}, version=1
    )
    assert renamed.status_code == 200
    assert renamed.headers["etag"] == '"2"'
    stale = await patch(erp, f"/departments/{inside['id']}", {"name": "Again"}, version=1)
    assert stale.status_code == 412
    taken = await patch(erp, f"/departments/{inside['id']}", {"name": "COMPANY"})
    assert taken.status_code == 409
    top = await patch(erp, f"/departments/{inside['id']}", {"parent_id": None})
    assert top.json()["parent_id"] is None
    assert (await patch(erp, f"/departments/{inside['id']}", {"name": None})).status_code == 422

    one = await erp.client.get(f"/departments/{sales['id']}", headers=headers)
    assert one.json() == sales
    assert one.headers["etag"] == '"1"'
    under = await erp.client.get(f"/departments?parent_id={company['id']}", headers=headers)
    assert [d["name"] for d in under.json()["items"]] == ["Sales"]
    first = await erp.client.get("/departments?sort=name&limit=2", headers=headers)
    assert [d["name"] for d in first.json()["items"]] == ["Company", "Sales"]
    rest = await erp.client.get(
        "/departments",
        params={"sort": "name", "limit": "2", "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    assert [d["name"] for d in rest.json()["items"]] == ["Sales Development"]
    assert rest.json()["next_cursor"] is None
    searched = await erp.client.get("/departments?q=sales%20d", headers=headers)
    assert [d["name"] for d in searched.json()["items"]] == ["Sales Development"]
    missing = await erp.client.get(f"/departments/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404


async def test_two_changes_at_once_never_make_a_cycle(erp: Erp) -> None:
    first = await hire(erp, "Fay First", role="sales_manager")
    second = await hire(erp, "Sam Second", role="sales_manager")
    responses = await asyncio.gather(
        patch(erp, f"/employees/{first['id']}", {"manager_id": second["id"]}),
        patch(erp, f"/employees/{second['id']}", {"manager_id": first["id"]}),
    )
    assert sorted(response.status_code for response in responses) == [200, 422]
    managers = {item["name"]: item["manager_id"] for item in await listed(erp, "")}
    assert None in managers.values()


async def test_a_terminated_employees_tokens_stop_working_before_they_expire(erp: Erp) -> None:
    leaver = await hire(erp, "Lena Leaver")
    colleague = await hire(erp, "Carl Stays")
    leavers_token = erp.headers("sales", uuid.UUID(leaver["id"]))
    colleagues_token = erp.headers("sales", uuid.UUID(colleague["id"]))
    assert (await erp.client.get("/products", headers=leavers_token)).status_code == 200

    assert (await terminate(erp, leaver)).status_code == 200

    async def refused() -> bool:
        response = await erp.client.get("/products", headers=leavers_token)
        return response.status_code == 401

    await eventually(refused, timeout=10, what="the leaver's token refused")
    response = await erp.client.get("/products", headers=leavers_token)
    assert response.headers["content-type"] == "application/problem+json"
    assert "Lena" not in response.text
    assert leaver["id"] not in response.text
    assert (await erp.client.get("/products", headers=colleagues_token)).status_code == 200
