"""The published document says which months and periods exist, as the service does: a
client that checks a value against the document before sending it is never refused for
a value the document allows (year 0000, a fifth quarter)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.erp import Erp

pytestmark = pytest.mark.api


def pattern_of(document: dict[str, Any], path: str, method: str, name: str) -> re.Pattern[str]:
    [parameter] = [p for p in document["paths"][path][method]["parameters"] if p["name"] == name]
    schema = parameter["schema"]
    pattern = schema.get("pattern") or next(
        s["pattern"] for s in schema.get("anyOf", []) if "pattern" in s
    )
    return re.compile(pattern)


async def test_months_and_periods_in_the_document_are_those_the_service_takes(erp: Erp) -> None:
    document = (await erp.client.get("/openapi.json")).json()
    months = [
        pattern_of(document, "/budgets/{account_id}/{month}", "put", "month"),
        pattern_of(document, "/budgets", "get", "month"),
    ]
    period = pattern_of(document, "/reports/budget-vs-actual", "get", "period")
    for month in months:
        assert [m for m in ("0001-01", "2026-11", "9999-12") if not month.search(m)] == []
        assert [
            m for m in ("0000-01", "2026-13", "2026-00", "2026-Q4", "2026") if month.search(m)
        ] == []
    assert [p for p in ("2026", "2026-11", "2026-Q4", "0001-Q1") if not period.search(p)] == []
    assert [
        p for p in ("0000", "0000-01", "2026-Q5", "2026-13", "0000000") if period.search(p)
    ] == []

    # What the document refuses, the service refuses too, as a 422 on the parameter.
    refused = await erp.client.get(
        "/reports/budget-vs-actual", params={"period": "0000-Q1"}, headers=erp.headers("finance")
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][-1]["field"] == "query.period"
