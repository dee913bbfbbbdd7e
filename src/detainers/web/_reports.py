"""Counts for the reports page and the public page. Every table names its denominator.

The public page suppresses every count under 11 and, when only one cell of a table would be hidden, the next
smallest too, so no hidden cell can be worked out by subtracting the others from the total.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from detainers.service import Desk
from detainers.web._board import state_of
from detainers.web._format import label

__all__ = ["SUPPRESS_BELOW", "PublicCell", "PublicTable", "Table", "csv_text", "desk_tables", "public_tables"]

SUPPRESS_BELOW = 11


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    column: str
    rows: list[tuple[str, int]]
    denominator: int
    denominator_text: str

    def share(self, count: int) -> str:
        return f"{100 * count / self.denominator:.1f}%" if self.denominator else "—"


def _counted(values: Iterable[str], *, order: list[str] | None = None) -> list[tuple[str, int]]:
    counts = Counter(values)
    if order is not None:
        return [(k, counts[k]) for k in order if counts[k]] + sorted(
            ((k, n) for k, n in counts.items() if k not in order), key=lambda kv: -kv[1]
        )
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


_OUTCOMES = ["active", "received", "released", "transferred", "lifted"]


def desk_tables(desk: Desk) -> list[Table]:
    detainers, total = desk.list_detainers(limit=1_000_000)
    bookings, _ = desk.list_bookings(limit=1_000_000)
    facility_of = {b.id: b.facility or b.jurisdiction for b in bookings}
    denominator = f"all {total:,} detainers recorded on this desk, whatever their status"
    outcomes = _counted((d.status for d in detainers), order=_OUTCOMES)
    facilities = _counted(facility_of.get(d.booking_id or "", "(not linked to a booking)") for d in detainers)
    months = sorted(Counter(d.received_at[:7] for d in detainers if d.received_at).items())
    forms = _counted(d.form for d in detainers)
    return [
        Table(
            "outcome",
            "Detainers by outcome",
            "Outcome",
            [(label(k), n) for k, n in outcomes],
            total,
            denominator,
        ),
        Table("facility", "Detainers by facility", "Facility", facilities, total, denominator),
        Table(
            "month",
            "Detainers received by month (UTC)",
            "Month received",
            months,
            total,
            denominator,
        ),
        Table("form", "Detainers by form", "Form", forms, total, denominator),
    ]


def csv_text(tables: Iterable[Table]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "value", "count", "denominator", "share"])
    for table in tables:
        for value, count in table.rows:
            writer.writerow([table.key, value, count, table.denominator, table.share(count)])
    return buffer.getvalue()


@dataclass(frozen=True)
class PublicCell:
    value: str
    count: int | None  # None: suppressed

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class PublicTable:
    key: str
    title: str
    column: str
    cells: list[PublicCell]
    total: int | None


def suppress(rows: list[tuple[str, int]]) -> tuple[list[PublicCell], int | None]:
    total = sum(n for _, n in rows)
    if total < SUPPRESS_BELOW:
        return [PublicCell(v, None) for v, _ in rows], None
    hidden = {v for v, n in rows if n < SUPPRESS_BELOW}
    if len(hidden) == 1:
        shown = sorted(((n, v) for v, n in rows if v not in hidden))
        if shown:
            hidden.add(shown[0][1])  # complementary suppression: one hidden cell could be subtracted out
    return [PublicCell(v, None if v in hidden else n) for v, n in rows], total


def public_tables(desk: Desk) -> list[PublicTable]:
    out = []
    statuses = [(label(c["status"]), n) for c, n in desk.counts(["status"])]
    forms = [(c["form"], n) for c, n in desk.counts(["form"])]
    by_state: Counter[str] = Counter()
    for c, n in desk.counts(["jurisdiction"]):
        by_state[state_of(c["jurisdiction"]) or "Not yet linked to a booking"] += n
    for key, title, column, rows in (
        ("status", "Detainers by current status", "Status", statuses),
        ("form", "Detainers by form", "Form", forms),
        ("state", "Detainers by state of the jail", "State", sorted(by_state.items())),
    ):
        cells, total = suppress(rows)
        out.append(PublicTable(key, title, column, cells, total))
    return out
