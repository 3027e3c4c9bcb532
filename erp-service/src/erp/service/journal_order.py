"""The order journal entries are listed in: by the requested date or time, and entries of
one date (or posted in one transaction, at one moment) by their number, as a journal is
read; never by their random ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, tuple_

from erp.adapters.finance import JournalEntry
from shared_schemas.http.pagination import decode_cursor, invalid_cursor
from shared_schemas.listing import Listing, SortKey


@dataclass(frozen=True)
class InPostingOrder(Listing):
    """A listing whose tie-breaker is the entry's number (`seq`), not its id."""

    def apply(
        self, query: Select[Any], sort: str | None, cursor: str | None, limit: int
    ) -> Select[Any]:
        name, descending = self._sort(sort)
        key = self.fields[name]
        order = (key.column, JournalEntry.seq)
        query = query.order_by(*(column.desc() for column in order) if descending else order)
        after = decode_cursor(cursor)
        if after is not None:
            if len(after) != 3 or after[0] != (sort or self.default):
                raise invalid_cursor()
            try:
                value = _parse(key.kind, after[1])
                seq = after[2]
                if type(seq) is not int:
                    raise ValueError("not an entry number")
            except (ValueError, TypeError) as exc:
                raise invalid_cursor() from exc
            position, bound = tuple_(*order), tuple_(value, seq)
            query = query.where(position < bound if descending else position > bound)
        return query.limit(limit + 1)

    def _key_of(self, sort: str | None) -> Callable[[Any], tuple[Any, Any]]:
        name, _ = self._sort(sort)
        attribute = str(self.fields[name].column.key)
        return lambda entry: (getattr(entry, attribute), entry.seq)


def _parse(kind: type, value: Any) -> date | datetime:
    if kind is datetime:
        return datetime.fromisoformat(value)
    return date.fromisoformat(value)


ENTRY_LISTING = InPostingOrder(
    fields={
        "entry_date": SortKey(JournalEntry.entry_date, date),
        "created_at": SortKey(JournalEntry.created_at, datetime),
    },
    id_column=JournalEntry.seq,
    default="-entry_date",
)
