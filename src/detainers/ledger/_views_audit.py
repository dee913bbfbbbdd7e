"""Verify what is served: fold the events again, in memory, and compare every view table row by row.

The hash chain proves the events were not altered; the API and the desk, though, read ``detainer_view`` and
``booking_view``. An edited view row (a detainer moved to another office, a release erased) changes what is served
without touching the chain, so :func:`audit_views` folds the whole ledger again with the very projector the
appends use (into memory, never into the database) and names every row, column and JSON field that differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from detainers.ledger._events import StoredEvent
from detainers.ledger._projections import (
    BookingState,
    DetainerState,
    Projector,
    _booking_row,
    _detainer_row,
    seen_states,
)
from detainers.ledger._schema import booking_view, detainer_view

__all__ = ["ViewMismatch", "audit_views", "fold_views"]


@dataclass(frozen=True)
class ViewMismatch:
    """One view cell that is not what the events make of it (``column`` ``data.office`` for a JSON field)."""

    table: str
    key: str
    column: str
    stored: Any
    expected: Any

    def describe(self) -> str:
        if self.column == "(row)":
            what = "missing" if self.stored is None else "not made by any event (extra row)"
            return f"{self.table} row {self.key}: {what}"
        return f"{self.table} row {self.key}: {self.column} is {self.stored!r}, the events say {self.expected!r}"

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "column": self.column,
            "stored": self.stored,
            "expected": self.expected,
        }


class _Empty:
    def first(self) -> None:
        return None


class _MemoryConnection:
    """Just enough of a SQLAlchemy connection for :class:`Projector`: one transaction in memory, and views that
    hold nothing (so every record is folded from its first event, never read from the tables under audit)."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}
        self._transaction = object()

    def get_transaction(self) -> object:
        return self._transaction

    def execute(self, *_args: Any, **_kwargs: Any) -> _Empty:
        return _Empty()


def fold_views(events: Iterable[StoredEvent]) -> tuple[dict[str, DetainerState], dict[str, BookingState]]:
    """Every detainer and booking as the events make them, folded by the appends' own projector, in memory."""
    memory = _MemoryConnection()
    conn = cast(Connection, memory)
    projector = Projector(dry=True)
    for event in events:
        projector.apply(conn, event)
    detainers: dict[str, DetainerState] = {}
    bookings: dict[str, BookingState] = {}
    for (kind, ident), state in seen_states(conn).items():
        if kind == "detainer" and isinstance(state, DetainerState):
            detainers[ident] = state
        elif kind == "booking" and isinstance(state, BookingState):
            bookings[ident] = state
    return detainers, bookings


def _cell(column: str, value: Any) -> Any:
    if column == "active" and value is not None:
        return bool(value)  # SQLite stores booleans as 0/1
    return value


def _json_diffs(table: str, key: str, stored: str, expected: str) -> Iterator[ViewMismatch]:
    try:
        have = json.loads(stored)
    except (TypeError, ValueError):
        yield ViewMismatch(table, key, "data", stored, "(valid JSON)")
        return
    want = json.loads(expected)
    if not isinstance(have, dict):
        yield ViewMismatch(table, key, "data", have, want)
        return
    for field in sorted(set(have) | set(want)):
        if have.get(field) != want.get(field) or (field in have) != (field in want):
            yield ViewMismatch(table, key, f"data.{field}", have.get(field), want.get(field))


def _compare(
    table: Table, stored: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]
) -> list[ViewMismatch]:
    found: list[ViewMismatch] = []
    for key in sorted(set(stored) | set(expected)):
        have, want = stored.get(key), expected.get(key)
        if have is None or want is None:
            found.append(ViewMismatch(table.name, key, "(row)", have and "present", want and "present"))
            continue
        for column, value in want.items():
            if column == "data":
                if have["data"] != value:
                    found.extend(_json_diffs(table.name, key, have["data"], value))
            elif _cell(column, have.get(column)) != _cell(column, value):
                found.append(ViewMismatch(table.name, key, column, have.get(column), value))
    return found


def audit_views(conn: Connection, events: Iterable[StoredEvent]) -> list[ViewMismatch]:
    """Every difference between the view tables (read through ``conn``) and what ``events`` make of them.

    Read the events and the views in one transaction (one snapshot) so that a concurrent append is not a false
    alarm.
    """
    detainers, bookings = fold_views(events)
    detainer_rows = {ident: _detainer_row(state) for ident, state in detainers.items()}
    booking_rows = {ident: _booking_row(state) for ident, state in bookings.items()}
    found: list[ViewMismatch] = []
    for table, expected in ((detainer_view, detainer_rows), (booking_view, booking_rows)):
        stored = {str(row["id"]): dict(row) for row in conn.execute(select(table)).mappings()}
        found.extend(_compare(table, stored, expected))
    return found
