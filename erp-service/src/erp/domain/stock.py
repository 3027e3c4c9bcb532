"""Stock rules: the movement kinds, what a level may become, and when stock runs low."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared_schemas.domain import Conflict, RuleViolation

# What users post.
RECEIPT, ADJUSTMENT, TRANSFER = "receipt", "adjustment", "transfer"
USER_KINDS = (RECEIPT, ADJUSTMENT, TRANSFER)

# What the ledger holds: a transfer is two rows, and the system alone writes the last three.
TRANSFER_OUT, TRANSFER_IN = "transfer_out", "transfer_in"
RESERVATION, RELEASE, SHIPMENT = "reservation", "release", "shipment"
LEDGER_KINDS = (RECEIPT, ADJUSTMENT, TRANSFER_OUT, TRANSFER_IN, RESERVATION, RELEASE, SHIPMENT)

MAX_UNITS = 2_147_483_647
"""Levels are INTEGER columns: a count beyond their range is refused here as a conflict,
before the database would fail on it."""

MAX_QUANTITY = 1_000_000_000
"""The largest quantity one movement may move."""


@dataclass(frozen=True)
class StockLine:
    """Units of one product an order reserves, releases or ships."""

    product_id: uuid.UUID
    sku: str
    quantity: int


class InsufficientStock(Conflict):
    """A movement would leave a level's available (or an order's reserved) units below zero."""

    def __init__(self, level: Level, *, of: str, needed: int, have: int) -> None:
        short = needed - have
        super().__init__(
            f"Not enough stock of {level.sku} in warehouse {level.warehouse_id}: "
            f"{needed} needed, {have} {of}, short by {short}.",
            sku=level.sku,
            warehouse_id=str(level.warehouse_id),
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            needed=needed,
            shortfall=short,
        )


@dataclass(frozen=True)
class Level:
    """On hand and reserved units of one product in one warehouse."""

    sku: str
    warehouse_id: uuid.UUID
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def moved(self, on_hand_delta: int, reserved_delta: int) -> Level:
        """The level after a movement; InsufficientStock if it would break a rule.

        Reserved units cannot be removed by anything but their shipment, so every decrease
        of on_hand that is not a shipment must be covered by what is available.
        """
        on_hand = self.on_hand + on_hand_delta
        reserved = self.reserved + reserved_delta
        if reserved < 0:
            raise InsufficientStock(self, of="reserved", needed=-reserved_delta, have=self.reserved)
        if on_hand - reserved < 0:
            needed = reserved_delta - on_hand_delta
            raise InsufficientStock(self, of="available", needed=needed, have=self.available)
        if on_hand > MAX_UNITS:
            raise Conflict(
                f"Stock of {self.sku} in warehouse {self.warehouse_id} would exceed "
                f"{MAX_UNITS} units.",
                sku=self.sku,
                warehouse_id=str(self.warehouse_id),
            )
        return Level(self.sku, self.warehouse_id, on_hand, reserved)

    def reservable(self, wanted: int) -> int:
        """How many of `wanted` units can be reserved now: never more than available."""
        return max(0, min(wanted, self.available))


def ran_low(before: Level, after: Level, point_before: int, point_after: int) -> bool:
    """Stock runs low when available goes from at or above the reorder point to below it,
    whether units went (a movement: one point, two levels) or the point rose above what
    is available (a product change: one level, two points); staying below is not news
    again."""
    return before.available >= point_before and after.available < point_after


def require_order_reserved(level: Level, reserved_by_order: int, quantity: int) -> None:
    """An order releases or ships only units it reserved itself, never another order's."""
    if quantity > reserved_by_order:
        raise InsufficientStock(
            level, of="reserved for this order", needed=quantity, have=reserved_by_order
        )


def check_line_quantities(lines: list[StockLine]) -> None:
    for position, line in enumerate(lines):
        if line.quantity < 0:
            raise RuleViolation(
                "Quantities cannot be negative.",
                [{"field": f"lines.{position}.quantity", "message": "must be 0 or more"}],
            )


@dataclass(frozen=True)
class MovementRequest:
    """A movement a user posts: a receipt, an adjustment or a transfer."""

    kind: str
    sku: str
    quantity: int
    warehouse_id: uuid.UUID | None = None
    from_warehouse_id: uuid.UUID | None = None
    to_warehouse_id: uuid.UUID | None = None
    reason: str | None = None

    def check(self) -> None:
        """The request's shape per kind; RuleViolation naming each field that is wrong."""
        errors: list[dict[str, str]] = []
        if self.kind not in USER_KINDS:
            errors.append({"field": "kind", "message": f"one of {', '.join(USER_KINDS)}"})
        elif self.kind == ADJUSTMENT:
            if self.quantity == 0:
                errors.append({"field": "quantity", "message": "must not be 0"})
            if not (self.reason or "").strip():
                errors.append({"field": "reason", "message": "required for adjustments"})
        elif self.quantity <= 0:
            errors.append({"field": "quantity", "message": "must be greater than 0"})
        if abs(self.quantity) > MAX_QUANTITY:
            errors.append({"field": "quantity", "message": f"at most {MAX_QUANTITY} units"})
        if self.kind == TRANSFER:
            errors.extend(self._transfer_errors())
        elif self.kind in USER_KINDS:
            if self.warehouse_id is None:
                errors.append({"field": "warehouse_id", "message": "required"})
            for name in ("from_warehouse_id", "to_warehouse_id"):
                if getattr(self, name) is not None:
                    errors.append({"field": name, "message": "only for transfers"})
        if errors:
            raise RuleViolation("The movement is not valid.", errors)

    def _transfer_errors(self) -> list[dict[str, str]]:
        errors = [
            {"field": name, "message": "required for transfers"}
            for name in ("from_warehouse_id", "to_warehouse_id")
            if getattr(self, name) is None
        ]
        if self.from_warehouse_id is not None and self.from_warehouse_id == self.to_warehouse_id:
            errors.append({"field": "to_warehouse_id", "message": "must differ from the source"})
        if self.warehouse_id is not None and self.warehouse_id != self.from_warehouse_id:
            errors.append(
                {"field": "warehouse_id", "message": "for transfers, omit it or give the source"}
            )
        return errors

    @property
    def source_id(self) -> uuid.UUID:
        """The warehouse whose stock the movement changes (a transfer's source)."""
        warehouse_id = self.from_warehouse_id if self.kind == TRANSFER else self.warehouse_id
        assert warehouse_id is not None, "check() first"
        return warehouse_id
