"""The CRM's HTTP API: one router per resource."""

from fastapi import APIRouter

from crm.api import custom_fields, customers


def routers() -> list[APIRouter]:
    return [customers.router, custom_fields.router]
