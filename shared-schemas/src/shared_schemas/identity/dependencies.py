"""FastAPI dependencies: the caller's principal from the bearer token, and route-level
authorisation against the permission table (object and property level helpers too)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared_schemas.http.problems import Problem
from shared_schemas.identity.tokens import InvalidToken, KeysUnavailable, Principal, TokenVerifier
from shared_schemas.permissions import Scope, allowed_scope, forbidden_fields

log = logging.getLogger(__name__)

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token issued by the gateway (`POST /auth/token`).",
)
# The name documents give the bearer scheme every protected route requires.
BEARER_SCHEME: str = _bearer.scheme_name


def unauthorized(*, token_sent: bool) -> Problem:
    """The 401 for a request without a usable access token. One answer for every reason
    a token is refused: the client learns nothing about why. The challenge carries
    `error="invalid_token"` only when a bearer token came (RFC 6750 §3.1: a request
    without one gets the bare scheme)."""
    challenge = 'Bearer error="invalid_token"' if token_sent else "Bearer"
    return Problem(
        401,
        "A valid access token is required.",
        kind="unauthorized",
        headers={"WWW-Authenticate": challenge},
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller; 401 without a valid access token."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    if credentials is None:
        raise unauthorized(token_sent=False)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        log.info("token refused: %s", exc)
        raise unauthorized(token_sent=True) from None
    except KeysUnavailable as exc:
        raise Problem(
            503,
            "Tokens cannot be verified right now.",
            kind="dependency-unavailable",
            headers={"Retry-After": "5"},
        ) from exc
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class Access:
    """What the caller may do on one route: who they are and in which scope."""

    principal: Principal
    service: str
    resource: str
    action: str
    scope: Scope

    def for_action(self, action: str, resource: str | None = None) -> Access:
        """The caller's access for another action (e.g. a contact's write is an update of
        its customer); 403 if no role of theirs may."""
        resource = resource or self.resource
        scope = allowed_scope(self.principal.roles, self.service, resource, action)
        if scope is None:
            raise Problem(403, f"Your role may not {action} {resource}.", kind="forbidden")
        return Access(self.principal, self.service, resource, action, scope)

    def require_owner(self, *owner_ids: uuid.UUID | None) -> None:
        """Object level: with scope `own`, the caller must own (or be assigned) the record."""
        if self.scope is Scope.ALL:
            return
        mine = self.principal.employee_id
        if mine is None or mine not in owner_ids:
            raise Problem(
                403,
                f"Only the owner may {self.action} this record.",
                kind="forbidden",
            )

    def require_fields(self, values: Mapping[str, Any]) -> None:
        """Property level: 403 naming the first field the caller may not set."""
        refused = forbidden_fields(
            self.principal.roles,
            self.service,
            self.resource,
            self.action,
            values,
            own_employee_id=self.principal.employee_id,
        )
        if refused:
            raise Problem(
                403,
                f"You may not set {', '.join(refused)}.",
                kind="forbidden-field",
                errors=[
                    {"field": field, "message": "not allowed for your role"} for field in refused
                ],
            )


class Authorize:
    """Route level: `Depends(Authorize("crm", "quotes", "accept"))`; 403 if no role may."""

    def __init__(self, service: str, resource: str, action: str) -> None:
        self.service = service
        self.resource = resource
        self.action = action

    async def __call__(self, principal: CurrentPrincipal) -> Access:
        scope = allowed_scope(principal.roles, self.service, self.resource, self.action)
        if scope is None:
            raise Problem(
                403,
                f"Your role may not {self.action} {self.resource}.",
                kind="forbidden",
            )
        return Access(principal, self.service, self.resource, self.action, scope)
