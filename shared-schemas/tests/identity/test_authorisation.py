"""Route, object and property level checks at a service, from the permission table."""

from __future__ import annotations

import uuid

import httpx
import pytest

from shared_schemas.identity import TokenSigner

pytestmark = pytest.mark.security

REP = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER_REP = uuid.UUID("00000000-0000-4000-8000-0000000000a2")


def token(signer: TokenSigner, role: str, employee: uuid.UUID | None = REP) -> dict[str, str]:
    issued = signer.issue(subject=f"{role}-user", roles=[role], employee_id=employee)
    return {"Authorization": f"Bearer {issued}"}


async def test_sales_changes_own_lead_but_not_another_reps(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    own = await client.patch(f"/leads/{REP}", json={"title": "x"}, headers=token(signer, "sales"))
    assert own.status_code == 200
    other = await client.patch(
        f"/leads/{OTHER_REP}", json={"title": "x"}, headers=token(signer, "sales")
    )
    assert other.status_code == 403
    assert other.json()["detail"] == "Only the owner may update this record."


async def test_route_the_role_may_not_use_is_403(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    for role in ("warehouse", "hr", "finance", "support"):
        response = await client.patch(f"/leads/{REP}", json={}, headers=token(signer, role))
        assert response.status_code == 403, role
        assert response.json()["detail"] == "Your role may not update leads."


async def test_owner_can_be_taken_for_oneself_but_only_managers_hand_it_over(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    sales = token(signer, "sales")
    kept = await client.patch(f"/leads/{REP}", json={"owner_id": str(REP)}, headers=sales)
    assert kept.status_code == 200
    handed = await client.patch(f"/leads/{REP}", json={"owner_id": str(OTHER_REP)}, headers=sales)
    assert handed.status_code == 403
    refusal = {"field": "owner_id", "message": "not allowed for your role"}
    assert handed.json()["errors"] == [refusal]
    manager = token(signer, "sales_manager")
    moved = await client.patch(f"/leads/{REP}", json={"owner_id": str(OTHER_REP)}, headers=manager)
    assert moved.status_code == 200


async def test_a_sales_rep_without_an_employee_id_owns_nothing(
    client: httpx.AsyncClient, signer: TokenSigner
) -> None:
    response = await client.patch(
        f"/leads/{REP}", json={}, headers=token(signer, "sales", employee=None)
    )
    assert response.status_code == 403
    # The role may update leads; it is the record that is not theirs.
    assert response.json()["detail"] == "Only the owner may update this record."
