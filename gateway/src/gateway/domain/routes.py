"""Which entry of the permission table a proxied request stands for, and the templated
route it is counted under in the metrics.

A service path names a resource by its first segment (`/orders/{id}` is `orders`), a
sub-collection by its name (`/customers/{id}/contacts` is `contacts`), and an action by
the method, or by the name of a transition route (`POST /quotes/{id}/accept` is
`accept`). The gateway refuses what no role of the caller may do at all; the services
still check route, object and property level themselves, so this check may be more
lenient than theirs but never stricter (a test compares it with every service route).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared_schemas.permissions import may
from shared_schemas.roles import Role

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Sub-collections that are resources of their own in the permission table.
SUB_RESOURCES: dict[tuple[str, str, str], str] = {
    ("crm", "customers", "contacts"): "contacts",
    ("erp", "orders", "shipments"): "shipments",
}
# Paths whose first segment is not the resource they read.
ALIASES: dict[tuple[str, str], str] = {("crm", "forecast"): "opportunities"}
# A first segment that only groups resources: `/admin/dead-letters/...` is `dead-letters`.
NAMESPACES = frozenset({"admin"})

_WORD = re.compile(r"^[a-z][a-z_-]{0,63}$")


@dataclass(frozen=True)
class ProxiedRoute:
    service: str
    resource: str
    action: str
    # The path with ids replaced by `{id}`: `/api/erp/orders/{id}/cancel`.
    template: str

    def allowed_for(self, roles: frozenset[Role]) -> bool:
        return may(roles, self.service, self.resource, self.action)


def is_word(segment: str) -> bool:
    """A segment that names something (`orders`, `journal-entries`), not an id."""
    return _WORD.match(segment) is not None


def classify(service: str, method: str, path: str) -> ProxiedRoute | None:
    """The route a request for `path` (the service's own path, e.g. `/orders/1/cancel`)
    stands for; None for a path no service route can have (empty, `.` or `..`)."""
    segments = path.strip("/").split("/")
    if not segments[0] or any(s in ("", ".", "..") for s in segments):
        return None
    template = f"/api/{service}/" + "/".join(s if is_word(s) else "{id}" for s in segments)
    named = segments
    if segments[0] in NAMESPACES and len(segments) > 1:
        named = segments[1:]
    resource = ALIASES.get((service, named[0]), named[0])
    if len(named) >= 3:
        sub = SUB_RESOURCES.get((service, resource, named[2]))
        if sub is not None:
            resource, named = sub, named[2:]
    return ProxiedRoute(service, resource, _action(method, named), template)


def _action(method: str, named: list[str]) -> str:
    if method in READ_METHODS:
        return "read"
    if method == "DELETE":
        return "delete"
    if method in ("PUT", "PATCH"):
        return "update"
    # POST on a collection creates; POST on `/{resource}/.../{id}/{name}` is a transition.
    last = named[-1]
    if len(named) >= 3 and is_word(last) and not is_word(named[-2]):
        return last
    return "create"
