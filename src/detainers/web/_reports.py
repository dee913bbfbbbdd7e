"""Counts for the reports page and the public page. Every table names its denominator.

The public page's tables come from ``detainers.service.public_counts`` (one suppression pattern across every table
the API and this page can show, see ``detainers.law.suppress_counts``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from detainers.law import SUPPRESS_BELOW
from detainers.service import Desk, public_counts
from detainers.service._public import UNLINKED
from detainers.web._format import label

__all__ = [
    "PUBLIC_TABLES",
    "SUPPRESS_BELOW",
    "PublicCell",
    "PublicTable",
    "Table",
    "csv_text",
    "desk_tables",
    "public_tables",
]


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


# The public page's tables: the API's ``/v1/public/counts?by=…`` for the same groupings gives the same numbers.
PUBLIC_TABLES = (
    ("status", "Detainers by current status", "Status"),
    ("form", "Detainers by form", "Form"),
    ("state", "Detainers by state of the jail", "State"),
)


def _shown(key: str, value: str) -> str:
    if key == "status":
        return label(value)
    if key == "state" and value == UNLINKED:
        return "Not yet linked to a booking"
    return value


def public_tables(desk: Desk) -> list[PublicTable]:
    """The public page's tables, from the one suppression every public table shares (``public_counts``)."""
    counts = public_counts(desk)
    out = []
    for key, title, column in PUBLIC_TABLES:
        table = counts.table([key])
        cells = [PublicCell(_shown(key, group[key]), n) for group, n in table.cells]
        out.append(PublicTable(key, title, column, cells, table.total))
    return out
