"""Names and emails as long as the API accepts are kept on SQLite and PostgreSQL alike,
also when case folding lengthens them (`ß` is `ss`) past their search column, and stay
findable by prefix: employees, departments and products."""

from __future__ import annotations

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api

LONG_NAME = "ß" * 200
LONG_EMAIL = f"{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 59}.example"


async def ids_found(erp: Erp, path: str, q: str, role: str) -> list[str]:
    response = await erp.client.get(path, params={"q": q}, headers=erp.headers(role))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_longest_names_and_emails_are_kept_and_found(erp: Erp) -> None:
    assert len(LONG_EMAIL) == 254
    department = await erp.post("/departments", {"name": LONG_NAME}, role="hr")
    employee = await erp.post(
        "/employees",
        {
            "name": LONG_NAME,
            "email": LONG_EMAIL,
            "role": "sales",
            "department_id": department["id"],
        },
        role="hr",
    )
    assert (employee["name"], employee["email"]) == (LONG_NAME, LONG_EMAIL)
    assert await ids_found(erp, "/employees", "SSSS", "hr") == [employee["id"]]
    assert await ids_found(erp, "/employees", LONG_EMAIL[:100], "hr") == [employee["id"]]
    # The same department name again is the same department, however it is written.
    again = await erp.client.post(
        "/departments", json={"name": "SS" * 100}, headers=erp.headers("hr")
    )
    assert again.status_code == 409, again.text
    assert again.json()["existing_id"] == department["id"]
    departments = await erp.client.get("/departments", headers=erp.headers("hr"))
    assert [d["id"] for d in departments.json()["items"]] == [department["id"]]
    product = await erp.post(
        "/products",
        {
            "sku": "LONG-1",
            "name": LONG_NAME,
            "unit_price": "10.00",
            "tax_rate": "19",
            "cost": "4.00",
        },
    )
    assert await ids_found(erp, "/products", "ßß", "sales") == [product["id"]]
