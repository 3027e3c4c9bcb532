"""The gateway under test: its in-process client, settings and the test token signer."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from gateway.config import Settings
from shared_schemas.identity import TokenSigner
from tests.support.identity import new_signer

SIGNER = new_signer("gateway-test-key")


@dataclass
class Gateway:
    client: httpx.AsyncClient
    settings: Settings
    signer: TokenSigner

    def headers(self, role: str, subject: str | None = None) -> dict[str, str]:
        """A bearer token of the test key for one role."""
        token = self.signer.issue(subject=subject or f"user-{role}", roles=[role], employee_id=None)
        return {"Authorization": f"Bearer {token}"}
