"""`make token ROLE=<role>`: print a development access token for calling a service directly.

Signed with the development key, which only processes in development mode trust.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from shared_schemas.identity.config import DEFAULT_AUDIENCE, DEFAULT_ISSUER, development_signer
from shared_schemas.identity.development import DEVELOPMENT_EMPLOYEE_IDS
from shared_schemas.roles import Role


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=[role.value for role in Role], default=Role.ADMIN.value)
    parser.add_argument("--minutes", type=int, default=60, help="lifetime of the token")
    parser.add_argument("--issuer", default=DEFAULT_ISSUER)
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    args = parser.parse_args()
    signer = development_signer(args.issuer, args.audience)
    print(
        signer.issue(
            subject=f"dev-{args.role}",
            roles=[args.role],
            employee_id=DEVELOPMENT_EMPLOYEE_IDS[args.role],
            lifetime=timedelta(minutes=args.minutes),
        )
    )


if __name__ == "__main__":
    main()
