"""The development signing key: known to everyone, so refused in production mode.

`make run` and `make token` use it so that services and the gateway trust each other on a
developer's machine without any setup. Production configures its own keys (JWKS URL or
inline JWKS) and every process refuses to start when this key id is among them.
"""

from __future__ import annotations

DEVELOPMENT_KEY_ID = "development-ed25519-1"

DEVELOPMENT_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIMs/+a6i3G1Pz22Ub/huz1/TMkuoejq0G+1DvgTd/NN0
-----END PRIVATE KEY-----
"""

# One development user per role (username = role, password `dev-<role>` at the gateway),
# each linked to a development employee with this fixed id, which `make run` creates in ERP.
DEVELOPMENT_EMPLOYEE_IDS: dict[str, str] = {
    "admin": "d0000000-0000-4000-8000-000000000001",
    "sales": "d0000000-0000-4000-8000-000000000002",
    "sales_manager": "d0000000-0000-4000-8000-000000000003",
    "support": "d0000000-0000-4000-8000-000000000004",
    "warehouse": "d0000000-0000-4000-8000-000000000005",
    "finance": "d0000000-0000-4000-8000-000000000006",
    "hr": "d0000000-0000-4000-8000-000000000007",
}
