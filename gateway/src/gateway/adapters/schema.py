"""The gateway database schema complete: importing this loads every table onto the
MetaData (Alembic and tests compare against it)."""

import gateway.adapters.events  # noqa: F401 - loads its tables
from gateway.adapters import users  # noqa: F401 - loads its tables
from gateway.adapters.orm import Base

metadata = Base.metadata

__all__ = ["metadata"]
