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
from typing import Any

from detainers.analytics import TRUTH_ACT_ANSWERS, truth_act_notices
from detainers.law import SUPPRESS_BELOW
from detainers.service import Desk, public_counts
from detainers.service._public import UNLINKED
from detainers.web._format import label
from detainers.web._person_notices import notice_title

__all__ = [
    "PUBLIC_TABLES",
    "Against",
    "against_decision",
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
    unit: str = "Detainers"  # what the counts count

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
    flagged = Counter(
        {"transfer": "Transfer to ICE not allowed", "notify": "Notice to ICE not allowed", "hold": "Hold required"}.get(
            a.dimension, a.dimension
        )
        for a in against_decision(desk)
    )
    decided = sum(1 for b in bookings if b.decision is not None)
    # California's TRUTH Act tables, where the desk holds California bookings (a law of no other state)
    california = any(b.jurisdiction.startswith("us/ca") for b in bookings)
    truth = _truth_act_tables(detainers, {b.id: b.timezone for b in bookings}) if california else []
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
        Table(
            "against",
            "Facts recorded against the decision in force",
            "What the decision said",
            sorted(flagged.items(), key=lambda kv: (-kv[1], kv[0])),
            decided,
            f"all {decided:,} bookings with a decision (each flagged entry was confirmed by the person recording it)",
            unit="Entries",
        ),
        *truth,
    ]


_ANSWER_TEXT = {
    "consented": "Consented to the interview",
    "declined": "Declined the interview",
    "asked_for_counsel": "Only with their attorney present",
}


def _truth_act_tables(detainers: Iterable[Any], zones: dict[str, str]) -> list[Table]:
    """California TRUTH Act (Gov. Code 7283.1): notices served to the person and consent forms by answer, all years
    on this desk together (``truth_act_notices`` gives them per year, as ``detainers report truth-act --desk``)."""
    served = [{**item, "zone": zones.get(d.booking_id or "", "UTC")} for d in detainers for item in d.person_notices]
    years = truth_act_notices(served)
    kinds: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    for year in years:
        kinds.update(year["by_kind"])
        answers.update(year["consents_by_answer"])
    notices = sum(kinds.values())
    consents = sum(answers.values())
    return [
        Table(
            "truth_notices",
            "TRUTH Act (Gov. Code 7283.1): notices served to the person",
            "Notice, to whom",
            [(_kind_label(k), n) for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))],
            notices,
            f"all {notices:,} TRUTH Act notices and consent forms recorded as served on this desk, every year "
            "(a copy served again, in another language, counts again)",
            unit="Served",
        ),
        Table(
            "truth_consents",
            "TRUTH Act consent forms (7283.1(a)) by the person's answer",
            "The person's answer",
            [(_ANSWER_TEXT[a], answers[a]) for a in TRUTH_ACT_ANSWERS],
            consents,
            f"all {consents:,} interview consent forms recorded as served on this desk, every year",
            unit="Consent forms",
        ),
    ]


def _kind_label(key: str) -> str:
    kind, _, recipient = key.partition(":")
    to = "attorney or designee" if recipient == "attorney_or_designee" else "the person"
    return f"{notice_title(f'us/ca/{kind}', kind)} ({to})"  # the TRUTH Act's forms are California's


@dataclass(frozen=True)
class Against:
    """One fact recorded against the decision in force (the flag the event carries)."""

    seq: int
    what: str  # the event
    dimension: str
    decision: str
    rules: tuple[str, ...]
    booking_number: str
    detainer_id: str | None


def against_decision(desk: Desk) -> list[Against]:
    """Every fact recorded against the decision in force, newest first (transfers, releases, notices by hand)."""
    bookings, _ = desk.list_bookings(limit=1_000_000)
    detainers, _ = desk.list_detainers(limit=1_000_000)
    number = {b.id: b.booking_number for b in bookings}
    out = []
    for b in bookings:
        for flag in b.against_decision:
            what = "transfer or release" if flag.get("dimension") != "hold" else "release"
            out.append(
                Against(
                    int(flag.get("seq", 0)),
                    what,
                    str(flag.get("dimension")),
                    str(flag.get("decision")),
                    tuple(flag.get("rules", ())),
                    b.booking_number,
                    b.detainer_ids[0] if b.detainer_ids else None,
                )
            )
    for d in detainers:
        for notice in d.notices:
            mark = notice.get("against_decision")
            if mark:
                out.append(
                    Against(
                        int(notice.get("seq", 0)),
                        "notice to ICE",
                        str(mark.get("dimension")),
                        str(mark.get("decision")),
                        tuple(mark.get("rules", ())),
                        number.get(d.booking_id or "", "—"),
                        d.id,
                    )
                )
    return sorted(out, key=lambda a: -a.seq)


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
