"""A percent rate as every answer writes it, however it was stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator

from shared_schemas.money import Percent


def plain_rate(rate: Decimal) -> Decimal:
    """The rate without trailing zeros: a stored rate comes back with its column's four
    decimals ("7.5000"), and the same rate is written "7.5" whether it was just given,
    read, listed or announced."""
    return rate.normalize()


StoredRate = Annotated[Percent, AfterValidator(plain_rate)]
"""A `Percent` read back from the database (responses)."""
