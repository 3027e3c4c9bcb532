"""Tables of departments and employees."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.adapters.orm import Base, Record
from shared_schemas.database import MONEY
from shared_schemas.listing import SearchKey

# A normalised email: as long as an email may be, byte-ordered like `SearchKey`.
EMAIL_KEY_LENGTH = 320
EmailKey = String(EMAIL_KEY_LENGTH).with_variant(
    String(EMAIL_KEY_LENGTH, collation="C"), "postgresql"
)


class Department(Record, Base):
    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(String(200))
    # Normalised name: unique, so "Sales" and "sales " are one department.
    name_key: Mapped[str] = mapped_column(SearchKey, unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("departments.id"), index=True
    )

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (Index("ix_departments_created", "created_at", "id"),)


class Employee(Record, Base):
    __tablename__ = "employees"

    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SearchKey)
    email: Mapped[str] = mapped_column(String(320))
    # Normalised email: unique, and the prefix search of `q`.
    email_key: Mapped[str] = mapped_column(EmailKey, unique=True)
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("departments.id"), index=True
    )
    manager_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("employees.id"), index=True
    )
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    hired_on: Mapped[date] = mapped_column(Date)
    # In the company currency; null until recorded. Never leaves the service in an event.
    salary: Mapped[Decimal | None] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20), default="active")
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(String(500))

    __mapper_args__ = {"version_id_col": Record.version}
    __table_args__ = (
        CheckConstraint("salary >= 0", name="salary_not_negative"),
        Index("ix_employees_created", "created_at", "id"),
        Index("ix_employees_name", "name_key", "id"),
        Index("ix_employees_hired", "hired_on", "id"),
    )
