"""`make seed`: the demo company of deploy/local/demo_data.py, loaded through the gateway's
public API, each record entered by the development user whose role would enter it.

Every POST carries an Idempotency-Key derived from the record's stable key, so a run
repeated within the services' key retention (a day) replays instead of duplicating, and
finishes what an interrupted run left. A completed seed ends with one journal entry whose
reference marks it; a later run finds it and changes nothing. Records with a natural key
(departments, employees, warehouses, products, customers, accounts) are also found by their
409 `existing_id` after the keys expired.

What one service learns from the other through events (CRM: employees and products; ERP:
customers and accepted quotes; both: orders and invoices) is awaited by polling with a
deadline. The steps are in seed_crm and seed_erp, the state they share in seed_company.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import httpx

from deploy.local import demo_data as demo
from deploy.local.census import Census, census
from deploy.local.launcher import PlatformFailed, ensure_development_employees, sign_in
from deploy.local.seed_api import (
    CONCURRENCY,
    Api,
    GatewayUnreachable,
    SeedFailed,
    check_gateway,
    gather,
)
from deploy.local.seed_company import Company
from deploy.local.seed_crm import activities, credit_reviews, customers, inquiries, leads, pipeline
from deploy.local.seed_erp import (
    books,
    catalogue,
    direct_orders,
    fulfil,
    journal_entry,
    leaver,
    people,
    quote_orders,
)

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"
ROLES = ("admin", "sales", "sales_manager", "support", "warehouse", "finance", "hr")
MARKER = demo.JOURNAL_ENTRIES[-1][2]


# --- The whole company ----------------------------------------------------------------------


async def seeded_already(api: Api) -> bool:
    entries = await api.get_all(
        "finance", "/api/erp/ledger/journal-entries", {"source_type": "manual"}
    )
    return any(entry["reference"] == MARKER for entry in entries)


async def load(gateway_url: str) -> tuple[Census, bool]:
    """Seed the company unless a completed seed is found; its census and whether this run
    loaded it."""
    await check_gateway(gateway_url)
    await ensure_development_employees(gateway_url)
    limits = httpx.Limits(max_connections=CONCURRENCY * 2)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0, limits=limits) as client:
        tokens = await gather(*(sign_in(client, role, f"dev-{role}") for role in ROLES))
        api = Api(client, dict(zip(ROLES, tokens, strict=True)))
        if await seeded_already(api):
            return await census(api), False
        company = Company()
        await people(api, company)
        await gather(catalogue(api, company), books(api, company), customers(api, company))
        await gather(leads(api, company), pipeline(api, company), direct_orders(api, company))
        await quote_orders(api, company)
        await gather(
            *(fulfil(api, company, key, plan) for key, plan in demo.FULFILMENT.items()),
            activities(api, company),
            inquiries(api, company),
            credit_reviews(api, company),
            leaver(api, company),
        )
        # Last: the entry that marks the seed complete.
        await journal_entry(api, company, demo.JOURNAL_ENTRIES[-1])
        return await census(api), True


async def seed(gateway_url: str) -> str:
    """Load the demo company through the gateway (or find it loaded); a one-line summary."""
    found, loaded = await load(gateway_url)
    return found.line() if loaded else f"already seeded, nothing changed: {found.line()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="make seed", description="Load the demo company through the gateway."
    )
    parser.add_argument(
        "--gateway-url",
        default=os.environ.get("GATEWAY_URL", DEFAULT_GATEWAY_URL),
        help=f"default: $GATEWAY_URL or {DEFAULT_GATEWAY_URL}",
    )
    url = parser.parse_args().gateway_url.rstrip("/")
    started = time.monotonic()
    try:
        found, loaded = asyncio.run(load(url))
    except GatewayUnreachable as error:
        print(f"seed: {error}", file=sys.stderr)
        sys.exit(2)
    except (SeedFailed, PlatformFailed, httpx.HTTPError) as error:
        print(f"seed failed: {error.__class__.__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    verb = "loaded" if loaded else "already seeded, nothing changed"
    print(f"Demo company {verb} in {time.monotonic() - started:.1f}s: {found.line()}")
    print("\n".join(found.details()))


if __name__ == "__main__":
    main()
