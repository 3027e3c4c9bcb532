"""The roles a user or an employee holds on this platform (design.md §7)."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SALES = "sales"
    SALES_MANAGER = "sales_manager"
    SUPPORT = "support"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    HR = "hr"
