"""Leads: their life cycle and what a converted lead becomes by default."""

from __future__ import annotations

from typing import Any

from shared_schemas.domain import StateMachine

LIFECYCLE = StateMachine(
    "lead",
    {
        "new": {
            "contact": "contacted",
            "qualify": "qualified",
            "disqualify": "disqualified",
            "convert": "converted",
        },
        "contacted": {"qualify": "qualified", "disqualify": "disqualified", "convert": "converted"},
        "qualified": {"disqualify": "disqualified", "convert": "converted"},
        "converted": {},
        "disqualified": {},
    },
)

OPEN_STATUSES = ("new", "contacted", "qualified")
FINAL_STATUSES = ("converted", "disqualified")
STATUSES = tuple(LIFECYCLE.statuses)


def default_customer(
    name: str,
    company_name: str | None,
    email: str | None,
    phone: str | None,
    kind: str | None = None,
) -> dict[str, Any]:
    """The customer a lead becomes when the converter gives no fields of their own: the
    company when the lead names one, else the person. A converter asking for a person
    gets the person, named as the lead names them, whether or not it names a company."""
    if kind is None:
        kind = "company" if company_name else "person"
    named = company_name if kind == "company" and company_name else name
    return {"kind": kind, "name": named, "email": email, "phone": phone}
