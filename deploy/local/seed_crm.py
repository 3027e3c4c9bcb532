"""The demo seed's CRM steps: customers and credit reviews, leads, the pipeline of
opportunities and quotes, activities and inquiries."""

from __future__ import annotations

from deploy.local import demo_data as demo
from deploy.local.seed_api import Api, Json, SeedFailed, describe, gather
from deploy.local.seed_company import Company

OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")


def acting(owner: str) -> str:
    """Who enters a record for `owner`: the development sales rep their own, the sales
    manager everyone else's."""
    return "sales" if owner == "sales" else "sales_manager"


def owned(company: Company, owner: str, values: Json) -> Json:
    """The body, with owner_id when the manager enters it for someone (a rep's own default
    to themselves)."""
    if acting(owner) == "sales":
        return values
    return {**values, "owner_id": company.employees[owner]}


# --- Customers (sales manager, sales) -------------------------------------------------------


async def customers(api: Api, company: Company) -> None:
    for definition in demo.CUSTOM_FIELDS:
        response = await api.send(
            "sales_manager",
            "POST",
            "/api/crm/custom-fields",
            body=definition,
            key=f"custom-field/{definition['key']}",
        )
        if response.status_code not in (201, 409):
            raise SeedFailed(describe(response))

    async def customer(item: demo.Customer) -> None:
        body: Json = {
            "kind": item.kind,
            "name": item.name,
            "email": item.email,
            "phone": item.phone,
            "industry": item.industry,
            "billing_address": item.billing,
            "tags": list(item.tags),
            "custom_fields": item.custom_fields,
        }
        if item.shipping:
            body["shipping_address"] = item.shipping
        if item.payment_terms_days is not None:
            body["payment_terms_days"] = item.payment_terms_days
        role = acting(item.owner)
        if item.credit_limit is not None:
            body["credit_limit"] = item.credit_limit
            role = "sales_manager"  # limits are for managers and finance
        if role == "sales_manager":
            body["owner_id"] = company.employees[item.owner]
        # lagging: CRM may not know the new reps yet.
        made = await api.post(
            role,
            "/api/crm/customers",
            body,
            key=f"customer/{item.key}",
            lagging=True,
            existing=True,
        )
        company.customers[item.key] = made["id"]
        for position, (name, email, phone, title) in enumerate(item.contacts):
            contact = {
                "name": name,
                "email": email,
                "phone": phone,
                "title": title,
                "is_primary": position == 0,
            }
            await api.post(
                role,
                f"/api/crm/customers/{made['id']}/contacts",
                contact,
                key=f"contact/{item.key}/{position}",
            )

    await gather(*(customer(item) for item in demo.CUSTOMERS))


async def credit_reviews(api: Api, company: Company) -> None:
    for key, changes in demo.CREDIT_REVIEWS:
        await api.patch("finance", f"/api/crm/customers/{company.customers[key]}", changes)


# --- Leads ----------------------------------------------------------------------------------


async def leads(api: Api, company: Company) -> None:
    async def lead(item: demo.Lead) -> None:
        role = acting(item.owner)
        body: Json = {"name": item.name, "email": item.email, "source": item.source}
        if item.company:
            body["company_name"] = item.company
        if item.notes:
            body["notes"] = item.notes
        made = await api.post(
            role,
            "/api/crm/leads",
            owned(company, item.owner, body),
            key=f"lead/{item.key}",
            lagging=True,
        )
        lead_id = company.leads[item.key] = made["id"]
        path = f"/api/crm/leads/{lead_id}"
        if item.status in ("contacted", "qualified", "converted", "disqualified"):
            await api.post(role, f"{path}/contact", key=f"lead/{item.key}/contact")
        if item.status in ("qualified", "converted"):
            await api.post(role, f"{path}/qualify", key=f"lead/{item.key}/qualify")
        if item.status == "disqualified":
            await api.post(
                role,
                f"{path}/disqualify",
                {"reason": item.reason},
                key=f"lead/{item.key}/disqualify",
            )
        if item.status == "converted":
            conversion: Json = {}
            if item.link_customer:
                conversion["customer_id"] = company.customers[item.link_customer]
            elif item.industry:
                conversion["customer"] = {"industry": item.industry, "tags": ["from-lead"]}
            if item.opportunity:
                name, amount, days = item.opportunity
                conversion["opportunity"] = {
                    "name": name,
                    "amount": amount,
                    "expected_close_date": company.day(days),
                }
            converted = await api.post(
                role, f"{path}/convert", conversion, key=f"lead/{item.key}/convert"
            )
            if not item.link_customer:
                company.customers[f"lead:{item.key}"] = converted["customer_id"]

    await gather(*(lead(item) for item in demo.LEADS))


# --- Opportunities and quotes ---------------------------------------------------------------


async def pipeline(api: Api, company: Company) -> None:
    async def opportunity(item: demo.Opportunity) -> None:
        role = acting(item.owner)
        body = {
            "name": item.name,
            "customer_id": company.customers[item.customer],
            "amount": item.amount,
            "expected_close_date": company.day(item.close_in_days),
        }
        made = await api.post(
            role,
            "/api/crm/opportunities",
            owned(company, item.owner, body),
            key=f"opportunity/{item.key}",
        )
        company.opportunities[item.key] = made["id"]
        for stage in OPEN_STAGES[1 : OPEN_STAGES.index(item.stage) + 1]:
            await api.post(
                role,
                f"/api/crm/opportunities/{made['id']}/stage",
                {"stage": stage},
                key=f"opportunity/{item.key}/{stage}",
            )

    await gather(*(opportunity(item) for item in demo.OPPORTUNITIES))
    await gather(*(quote(api, company, item) for item in demo.QUOTES))

    async def close(item: demo.Opportunity) -> None:
        path = f"/api/crm/opportunities/{company.opportunities[item.key]}"
        role = acting(item.owner)
        if item.outcome == "won":
            await api.post(role, f"{path}/win", key=f"opportunity/{item.key}/win")
        elif item.outcome == "lost":
            body = {"reason": item.loss_reason}
            await api.post(role, f"{path}/lose", body, key=f"opportunity/{item.key}/lose")

    await gather(*(close(item) for item in demo.OPPORTUNITIES if item.outcome))


def list_price(sku: str) -> str:
    for repriced, changes in demo.REPRICES:
        if repriced == sku and "unit_price" in changes:
            return str(changes["unit_price"])
    return next(p.unit_price for p in demo.PRODUCTS if p.sku == sku)


async def quote(api: Api, company: Company, item: demo.Quote) -> None:
    role = acting(item.owner)
    tax = {product.sku: product.tax_rate for product in demo.PRODUCTS}
    body: Json = {
        "customer_id": company.customers[item.customer],
        "valid_until": company.day(item.valid_days),
        "lines": [
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price": list_price(sku),
                "discount_pct": discount,
                "tax_rate": tax[sku],
            }
            for sku, quantity, discount in item.lines
        ],
    }
    if item.opportunity:
        body["opportunity_id"] = company.opportunities[item.opportunity]
    if item.notes:
        body["notes"] = item.notes
    # lagging: CRM may not know the products yet.
    made = await api.post(
        role,
        "/api/crm/quotes",
        owned(company, item.owner, body),
        key=f"quote/{item.key}",
        lagging=True,
    )
    path = f"/api/crm/quotes/{made['id']}"
    if item.status == "draft":
        return
    await api.post(role, f"{path}/send", key=f"quote/{item.key}/send")
    if item.status == "accepted":
        await api.post(role, f"{path}/accept", key=f"quote/{item.key}/accept")
        company.orders[item.key] = {"quote_id": made["id"]}
    elif item.status == "rejected":
        body = {"reason": item.reason}
        await api.post(role, f"{path}/reject", body, key=f"quote/{item.key}/reject")


# --- Activities and support -----------------------------------------------------------------


async def activities(api: Api, company: Company) -> None:
    targets = {
        "customer": ("customer_id", company.customers),
        "lead": ("lead_id", company.leads),
        "opportunity": ("opportunity_id", company.opportunities),
    }

    async def log(position: int, item: demo.Activity) -> None:
        kind, _, target = item.target.partition(":")
        field_name, ids = targets[kind]
        body: Json = {
            "kind": item.kind,
            "subject": item.subject,
            "occurred_at": company.at(item.days_ago, 8 + position % 9),
            field_name: ids[target],
        }
        if item.body:
            body["body"] = item.body
        if item.location:
            body["location"] = {"latitude": item.location[0], "longitude": item.location[1]}
        await api.post(item.by, "/api/crm/activities", body, key=f"activity/{item.key}")

    await gather(*(log(n, item) for n, item in enumerate(demo.ACTIVITIES)))


async def inquiries(api: Api, company: Company) -> None:
    async def inquiry(item: demo.Inquiry) -> None:
        body: Json = {
            "channel": item.channel,
            "subject": item.subject,
            "priority": item.priority,
            "customer_id": company.customers[item.customer],
            "assignee_id": company.employees[item.assignee],
        }
        if item.body:
            body["body"] = item.body
        if item.order:
            body["order_id"] = company.orders[item.order]["id"]
        # lagging: CRM may not know the support staff yet.
        made = await api.post(
            "support", "/api/crm/inquiries", body, key=f"inquiry/{item.key}", lagging=True
        )
        path = f"/api/crm/inquiries/{made['id']}"
        steps = {
            "new": [],
            "open": ["open"],
            "pending": ["open", "pend"],
            "resolved": ["open", "resolve"],
            "closed": ["open", "resolve", "close"],
        }[item.status]
        for step in steps:
            step_body = {"resolution": item.resolution} if step == "resolve" else None
            await api.post("support", f"{path}/{step}", step_body, key=f"inquiry/{item.key}/{step}")

    await gather(*(inquiry(item) for item in demo.INQUIRIES))
