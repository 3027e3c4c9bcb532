"""List queries of every API: `sort=field|-field`, keyset cursors bound to that sort, and
index-friendly case-insensitive prefix search. No OFFSET anywhere: page 1,000 costs what
page 1 costs.

Sort keys are (field, tie-breaker), compared as a row value, so each sortable field needs
a non-null column and an index on (field, tie-breaker). The tie-breaker is the id, or a
resource's unique number where equal values should read in the order they were numbered
(journal entries, invoices).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, select, tuple_, union
from sqlalchemy.orm import QueryableAttribute

from shared_schemas.http.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from shared_schemas.http.problems import Problem

Column = QueryableAttribute[Any] | ColumnElement[Any]

T = TypeVar("T")

SEARCH_KEY_LENGTH = 200
SearchKey = String(SEARCH_KEY_LENGTH).with_variant(
    String(SEARCH_KEY_LENGTH, collation="C"), "postgresql"
)
"""Type of a normalised (lower-cased, trimmed) search column: byte order on PostgreSQL so
one plain B-tree index serves both `LIKE 'abc%'` and `ORDER BY` (SQLite compares bytes)."""


def normalise(text: str | None, length: int = SEARCH_KEY_LENGTH) -> str | None:
    """The form stored in search columns and compared with `q`, cut to the column's
    `length`: case folding may lengthen text (`ß` is `ss`), and a subject or an email may
    be longer than the column. Prefixes (`q` is at most 100 characters) and order by the
    first `length` characters stay exact."""
    if text is None:
        return None
    return " ".join(text.split()).casefold()[:length]


def prefix_match(column: Column, q: str) -> ColumnElement[bool]:
    """`column` (normalised) starts with normalised `q`, using the column's index."""
    return _starts_with(column, normalise(q) or "")


def number_prefix_match(column: Any, q: str) -> ColumnElement[bool]:
    """A document number (upper-case ASCII, `SO-2026-000042`) starts with `q`, using the
    number's index."""
    return _starts_with(column, q.strip().upper())


def _starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like: ColumnElement[bool] = column.like(f"{escaped}%", escape="\\")
    return like


def _parse_value(kind: type) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if kind is datetime:
            return datetime.fromisoformat(value)
        if kind is date:
            return date.fromisoformat(value)
        if kind is Decimal:
            return Decimal(str(value))
        if kind is uuid.UUID:
            return uuid.UUID(str(value))
        if kind is int:
            return int(value)
        return str(value)

    return parse


@dataclass(frozen=True)
class SortKey:
    column: Column
    kind: type = str
    # The attribute of a listed item holding the value (default: the column's key).
    attribute: str | None = None


@dataclass(frozen=True)
class Listing:
    """The sortable fields of one resource and its unique tie-breaker (by default the id;
    `id_kind` and `id_attribute` say the type and item attribute of another one)."""

    fields: Mapping[str, SortKey]
    id_column: Column
    default: str = "-created_at"
    id_kind: type = uuid.UUID
    id_attribute: str = "id"

    def apply(
        self, query: Select[Any], sort: str | None, cursor: str | None, limit: int
    ) -> Select[Any]:
        """Order by the requested sort and continue after the cursor; fetch limit + 1."""
        name, descending = self._sort(sort)
        key = self.fields[name]
        order_columns = [key.column, self.id_column]
        if descending:
            query = query.order_by(*(column.desc() for column in order_columns))
        else:
            query = query.order_by(*order_columns)
        after = decode_cursor(cursor)
        if after is not None:
            if len(after) != 3 or after[0] != (sort or self.default):
                raise invalid_cursor()
            try:
                value = _parse_value(key.kind)(after[1])
                last_id = self._tie_breaker(after[2])
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise invalid_cursor() from exc
            position = tuple_(key.column, self.id_column)
            bound = tuple_(value, last_id)
            query = query.where(position < bound if descending else position > bound)
        return query.limit(limit + 1)

    def apply_any_of(
        self,
        query: Select[Any],
        alternatives: Sequence[ColumnElement[bool]],
        sort: str | None,
        cursor: str | None,
        limit: int,
    ) -> Select[Any]:
        """`apply` for rows matching any of `alternatives` (a search over several columns).

        A plain OR would keep the database from bounding each alternative by its own
        index; it would walk the sort order filtering row by row (seconds at a million
        rows). Instead each alternative is its own ordered, bounded, limited branch, and
        the page is taken from their union.
        """
        if len(alternatives) == 1:
            return self.apply(query.where(alternatives[0]), sort, cursor, limit)
        name, descending = self._sort(sort)
        key = self.fields[name]
        branches = [
            self.apply(query.where(condition), sort, cursor, limit)
            .with_only_columns(key.column.label("sort_value"), self.id_column.label("row_id"))
            .subquery()
            for condition in alternatives
        ]
        matched = union(*(select(b.c.sort_value, b.c.row_id) for b in branches)).subquery("matched")
        order = [matched.c.sort_value, matched.c.row_id]
        entity = query.column_descriptions[0]["entity"]
        return (
            select(entity)
            .join(matched, self.id_column == matched.c.row_id)
            .order_by(*(column.desc() if descending else column for column in order))
            .limit(limit + 1)
        )

    def page(
        self,
        items: Sequence[T],
        limit: int,
        sort: str | None,
        key_of: Callable[[T], tuple[Any, Any]] | None = None,
    ) -> Page[T]:
        """The page and, when more rows exist, the cursor after its last item.

        `key_of(item)` gives (sort value, id); by default read from the item's attributes.
        """
        if len(items) <= limit:
            return Page(items=list(items), next_cursor=None)
        shown = list(items[:limit])
        value, item_id = (key_of or self._key_of(sort))(shown[-1])
        return Page(items=shown, next_cursor=encode_cursor([sort or self.default, value, item_id]))

    def _key_of(self, sort: str | None) -> Callable[[Any], tuple[Any, Any]]:
        name, _ = self._sort(sort)
        key = self.fields[name]
        attribute = key.attribute or str(getattr(key.column, "key", name))
        return lambda item: (getattr(item, attribute), getattr(item, self.id_attribute))

    def _tie_breaker(self, value: Any) -> Any:
        if self.id_kind is int:
            if type(value) is not int:  # a cursor this API issued holds a JSON number
                raise ValueError("not a number")
            return value
        if self.id_kind is str:
            if not isinstance(value, str):
                raise ValueError("not a text")
            return value
        return uuid.UUID(str(value))

    def _sort(self, sort: str | None) -> tuple[str, bool]:
        spec = sort or self.default
        descending = spec.startswith("-")
        name = spec.lstrip("-")
        if name not in self.fields:
            allowed = ", ".join(sorted(self.fields))
            raise Problem(
                422,
                f"Cannot sort by {name!r}; sortable fields: {allowed}.",
                kind="validation-error",
                title="Validation error",
                errors=[{"field": "query.sort", "message": f"one of {allowed}, optionally with -"}],
            )
        return name, descending
