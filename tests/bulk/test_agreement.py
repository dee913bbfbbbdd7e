"""Done-when of issues 3 and 16: the bulk (SQL) and per-case (Python) paths give the same answers, on every field
both produce.

Cases come from the synthetic generator in both profiles (calibrated, and "coverage", which makes rare facts
common), spread over every jurisdiction path that has a pack plus one that has none, from 2009 to 2025 so
every pack version is in force for some of them. Nothing here is hard-coded: both answers are computed.

Compared: every answer column of ``RESULT_COLUMNS`` that is not an input echoed back — the answers of
``tests/bulk/_compare.FIELDS`` (notify, notify_required, hold_until, hold_required, transfer, inform_subject,
over_detention_hours, custody_basis, hold_ended_by, undecided, the unknown statutes) and here also the applied
jurisdiction and zone, the decision instant and its local date, the hold's length in hours and the full list of
undecided facts. What bulk does not produce (docs/replay.md, "What the bulk path does not produce"): the notify
target, notices owed, the rules that fired, warnings, readings applied, coverage and the layer chain, the
explanation, and over-detention flags other than the one that ended a hold (``hold_ended_by``).
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from detainers.law import DecisionError, decide, default_packs
from detainers.law.bulk import RESULT_COLUMNS, bulk_decide, cases_from_rows
from detainers.synth import SynthConfig, generate

from ._compare import _ENDED, _STATUTE, FIELDS, connect, disagreements

# Result columns that echo the case's input rather than answer it (nothing to agree on).
INPUTS = {"booking_id", "facility_id", "eligible_at", "released_at", "error"}
# Every answer bulk gives, each compared with the per-case decision.
ANSWERS = (*FIELDS, "jurisdiction", "timezone", "decided_at", "decision_date", "hold_hours", "undecided_facts")
# The two paths word undecided facts differently (per case: the fact, "current charge X may qualify ..."; bulk: the
# rule, "rule R: whether it applies cannot be decided"); the statutes no table knows are worded alike and compared
# one by one (unknown_statutes); the rest are compared as "is there any".

NO_PACK = "us/nv/washoe"  # Nevada and Washoe County have no pack: only the federal layer decides


def _population(scale: int, seed: int, profile: str) -> dict[str, pa.Table]:
    config = SynthConfig(
        scale=scale,
        seed=seed,
        start=date(2009, 1, 1),
        end=date(2025, 12, 31),
        detainer_share=1.0,
        profile=profile,  # type: ignore[arg-type]
        chunk=scale,
    )
    (chunk,) = generate(config)
    return chunk


def _spread(tables: dict[str, pa.Table], paths: list[str]) -> dict[str, pa.Table]:
    """Put the cases round-robin in every path (zones kept: the facility's own)."""
    bookings = tables["bookings"]
    column = pa.array([paths[i % len(paths)] for i in range(bookings.num_rows)], pa.string())
    index = bookings.schema.get_field_index("jurisdiction")
    return {**tables, "bookings": bookings.set_column(index, "jurisdiction", column)}


def _paths() -> list[str]:
    return [p.pack for p in default_packs() if "/" in p.pack] + [NO_PACK]


def _same(name: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if name in ("over_detention_hours", "hold_hours"):
        return bool(abs(a - b) < 1e-6)
    if name in ("hold_until", "decided_at"):
        # Instants: aware datetimes in a DST fold compare unequal across zones (PEP 495), so use UTC.
        return bool(a.astimezone(UTC) == b.astimezone(UTC))
    return bool(a == b)


def _beyond_statutes(facts: Any) -> bool:
    """Whether any undecided fact is other than a statute no table knows."""
    return any(not _STATUTE.match(fact) for fact in facts)


def every_disagreement(tables: dict[str, pa.Table]) -> tuple[int, list[str], dict[str, set[object]]]:
    """Both paths on the same tables, once; every answer both give compared (see the module's docstring)."""
    con = connect(tables)
    bulk_decide(con, into="got")
    bulk = {r["booking_id"]: r for r in con.sql("SELECT * FROM got").to_arrow_table().to_pylist()}
    rows = {name: [r for r in t.to_pylist() if r["booking_id"] in bulk] for name, t in tables.items()}
    cases = cases_from_rows(rows["bookings"], rows["detainers"], rows["convictions"], rows["charges"])
    problems: list[str] = []
    seen: dict[str, set[object]] = {name: set() for name in ANSWERS}
    for case in cases:
        got = dict(bulk[case.name])
        try:
            d = decide(case)
        except DecisionError as exc:
            if got["error"] is None:
                problems.append(f"{case.name}: per-case refused ({exc}), bulk answered")
            continue
        if got["error"] is not None:
            problems.append(f"{case.name}: bulk error {got['error']!r}, per-case answered")
            continue
        eligible = case.booking.eligible_for_release_at
        decided = d.decided_at
        want: dict[str, Any] = {
            "notify": d.notify,
            "notify_required": d.notify_required,
            "hold_until": d.hold_until,
            "hold_required": d.hold_required,
            "transfer": d.transfer.value,
            "inform_subject": d.inform_subject,
            "over_detention_hours": d.over_detention_hours,
            "custody_basis": d.custody_basis,
            "hold_ended_by": next((f.value for f in d.over_detention_flags if f.value in _ENDED), None),
            "undecided": bool(d.undecided_facts),
            "unknown_statutes": tuple(d.unknown_statutes),
            "jurisdiction": d.jurisdiction,
            "timezone": d.timezone,
            "decided_at": decided,
            "decision_date": decided.astimezone(ZoneInfo(d.timezone)).date() if decided is not None else None,
            "hold_hours": (d.hold_until - eligible).total_seconds() / 3600 if d.hold_until and eligible else None,
            "undecided_facts": _beyond_statutes(d.undecided_facts),
        }
        got["unknown_statutes"] = tuple(
            sorted(m.group(1) for f in got["undecided_facts"] or () if (m := _STATUTE.match(f)))
        )
        got["undecided_facts"] = _beyond_statutes(got["undecided_facts"] or ())
        for name in ANSWERS:
            a, b = want[name], got[name]
            # instants vary as kinds: a hold to the decision instant or none; a decision at eligibility or not
            shown = {"hold_until": a == decided or a is None, "decided_at": a == eligible}.get(name, a)
            seen[name].add(shown)
            if not _same(name, a, b):
                problems.append(f"{case.name} [{case.jurisdiction}]: {name} per-case {a!r} bulk {b!r}")
    return len(cases), problems, seen


def test_every_answer_column_of_bulk_is_compared() -> None:
    """A column bulk gains is either an input echoed back or compared here (then this list must grow)."""
    assert set(RESULT_COLUMNS) - INPUTS == set(ANSWERS) - {"unknown_statutes"}


@pytest.mark.slow
def test_bulk_agrees_with_decide_on_generated_cases() -> None:
    coverage = _spread(_population(6_000, 11, "coverage"), _paths())
    calibrated = _population(5_000, 12, "calibrated")
    total = 0
    varied: dict[str, set[object]] = {}
    for tables in (coverage, calibrated):
        n, problems, seen = every_disagreement(tables)
        total += n
        for name, values in seen.items():
            varied.setdefault(name, set()).update(values)
        assert not problems, f"{len(problems)} disagreements, first: " + "\n".join(problems[:10])
    # The populations are varied enough for agreement to mean something: every answer takes several values.
    assert [name for name, values in varied.items() if len(values) < 2] == []
    assert total >= 10_000
    # Every pack was reached by some case.
    seen = set(coverage["bookings"].column("jurisdiction").to_pylist())
    assert all(p in seen for p in _paths())
    assert {p.pack for p in default_packs() if "/" not in p.pack} == {"us"}  # the federal layer: under every path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("jurisdiction", "pinned"),
    [("us/ca/los-angeles/lasd", date(2021, 1, 1)), ("us/tx/travis", date(2017, 3, 1)), ("us/ca", None)],
)
def test_bulk_agrees_on_what_if(jurisdiction: str, pinned: date | None) -> None:
    n, problems, _ = disagreements(_population(800, 21, "coverage"), jurisdiction=jurisdiction, versions_on=pinned)
    assert n > 700
    assert not problems, "\n".join(problems[:10])
