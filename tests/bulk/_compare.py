"""Shared by the bulk tests: run both paths on the same tables and list every disagreement."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

import duckdb
import pyarrow as pa

from detainers.law import AgreementRegistry, DecisionError, decide
from detainers.law.bulk import bulk_decide, cases_from_rows

FIELDS = (
    "notify",
    "notify_required",
    "hold_until",
    "hold_required",
    "transfer",
    "inform_subject",
    "over_detention_hours",
    "custody_basis",
    "hold_ended_by",
)
_ENDED = {"after_lift", "after_law_change", "after_status_proof"}


def connect(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    return con


def disagreements(
    tables: dict[str, pa.Table],
    *,
    jurisdiction: str | None = None,
    versions_on: date | None = None,
    agreements: AgreementRegistry | None = None,
) -> tuple[int, list[str], dict[str, set[object]]]:
    con = connect(tables)
    bulk_decide(con, jurisdiction=jurisdiction, versions_on=versions_on, into="got", agreements=agreements)
    bulk = {r["booking_id"]: r for r in con.sql("SELECT * FROM got").to_arrow_table().to_pylist()}
    ids = set(bulk)
    rows = {name: [r for r in t.to_pylist() if r["booking_id"] in ids] for name, t in tables.items()}
    cases = cases_from_rows(rows["bookings"], rows["detainers"], rows["convictions"], rows["charges"])
    problems: list[str] = []
    seen: dict[str, set[object]] = {name: set() for name in FIELDS}
    for case in cases:
        got = bulk[case.name]
        try:
            d = decide(case, jurisdiction=jurisdiction, versions_on=versions_on, agreements=agreements)
        except DecisionError as exc:
            if got["error"] is None:
                problems.append(f"{case.name}: per-case refused ({exc}), bulk answered")
            continue
        if got["error"] is not None:
            problems.append(f"{case.name}: bulk error {got['error']!r}, per-case answered")
            continue
        want: dict[str, Any] = {
            "notify": d.notify,
            "notify_required": d.notify_required,
            "hold_until": d.hold_until,
            "hold_required": d.hold_required,
            "transfer": d.transfer.value,
            "inform_subject": d.inform_subject,
            "over_detention_hours": d.over_detention_hours,
            "custody_basis": d.custody_basis,
            # why a hold window was cut short during the hold, when custody ran past the cut
            "hold_ended_by": next((f.value for f in d.over_detention_flags if f.value in _ENDED), None),
        }
        for name in FIELDS:
            a, b = want[name], got[name]
            seen[name].add(a if name != "hold_until" else a == d.decided_at or a is None)
            if name == "over_detention_hours":
                same = abs(a - b) < 1e-6
            elif name == "hold_until" and a is not None and b is not None:
                # Instants: aware datetimes in a DST fold compare unequal across zones (PEP 495), so use UTC.
                same = a.astimezone(UTC) == b.astimezone(UTC)
            else:
                same = a == b
            if not same:
                problems.append(f"{case.name} [{case.jurisdiction}]: {name} per-case {a!r} bulk {b!r}")
    return len(cases), problems, seen
