"""Replay one population under two policies and count, per facility (or state) and year, what each would allow.

Counts per outcome: ``notify`` (ICE may be told the release date), ``hold`` (custody past release eligibility
authorised), ``hold_required``, ``transfer`` (ICE may take custody at the jail). ``hours`` is the summed custody
beyond release eligibility each policy would authorise (hold deadline minus eligibility, over cases with one).

Large populations are replayed in chunks (:mod:`detainers.replay._chunks`): each chunk is decided under both
policies, reduced to per-(facility, state, year) sums and fact counts, and dropped; the sums are added up at the
end, so the answer does not depend on the chunk size (tested), only the peak memory does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import duckdb

from detainers.law import PackSet, coverage_of, default_packs
from detainers.law.bulk import BulkSource, bulk_decide, cases_from_rows, plan
from detainers.replay._chunks import Partitioned, plan_chunks
from detainers.replay._policy import Policy

__all__ = ["GROUPINGS", "MEASURES", "Comparison", "Grouping", "SampleCase", "compare"]

MEASURES = ("notify", "hold", "hold_required", "transfer", "hours")
Grouping = Literal["facility", "state"]
GROUPINGS: tuple[Grouping, ...] = ("facility", "state")
_COUNTS = ("cases", *(f"{m}_{s}" for s in ("a", "b") for m in MEASURES), "differing")  # the SELECT order


@dataclass(frozen=True)
class SampleCase:
    booking_id: str
    facility: str
    differences: dict[str, tuple[Any, Any]]
    explanation_a: tuple[str, ...]
    explanation_b: tuple[str, ...]


@dataclass
class Comparison:
    policy: Policy
    vs: Policy
    cases: int
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    errors: dict[str, int]
    differing: int
    sample: list[SampleCase] = field(default_factory=list)
    # Per side ("a", "b"): cases decided on established facts, cases whose answer rests on facts the data cannot
    # establish (undecided: counted apart, with the most frequent such facts), and bookings the data could not make
    # into cases at all (replay on an imported store), by reason.
    certainty: dict[str, dict[str, Any]] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    # Per side ("a", "b"): cases decided with a layer of their jurisdiction not encoded, and those layers' counts.
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    by: Grouping = "facility"
    chunks: int = 1  # how many chunks the population was decided in


def _measures(alias: str) -> str:
    return (
        f"count(*) FILTER (WHERE {alias}.notify) AS notify_{alias}, "
        f"count(*) FILTER (WHERE {alias}.hold_hours > 0) AS hold_{alias}, "
        f"count(*) FILTER (WHERE {alias}.hold_required) AS hold_required_{alias}, "
        f"count(*) FILTER (WHERE {alias}.transfer <> 'not_allowed') AS transfer_{alias}, "
        # exact: summed as integer microseconds, so the sum does not depend on the order (or the chunks)
        f"COALESCE(sum(CASE WHEN {alias}.hold_hours IS NOT NULL "
        f"THEN epoch_us({alias}.hold_until) - epoch_us({alias}.eligible_at) END), 0) AS hours_{alias}"
    )


_US_PER_HOUR = 3_600_000_000


_DIFFER = (
    "(a.notify IS DISTINCT FROM b.notify OR a.hold_until IS DISTINCT FROM b.hold_until "
    "OR a.hold_required IS DISTINCT FROM b.hold_required OR a.transfer IS DISTINCT FROM b.transfer)"
)
_SAMPLE_COLUMNS = (
    "a.booking_id, a.facility_id, a.notify, b.notify, a.hold_until, b.hold_until, "
    "a.hold_required, b.hold_required, a.transfer, b.transfer"
)


def _explain(case: Any, policy: Policy, packs: PackSet) -> tuple[str, ...]:
    from detainers.law import DecisionError, decide

    try:
        d = decide(case, packs=packs, jurisdiction=policy.jurisdiction, versions_on=policy.versions_on)
    except DecisionError as exc:
        return (f"refused: {exc}",)
    return tuple(f"{s.kind}: {s.text}" for s in d.explanation)


def _explain_sample(
    con: duckdb.DuckDBPyConnection, picked: list[tuple[Any, ...]], policy: Policy, vs: Policy, packs: PackSet
) -> list[SampleCase]:
    if not picked:
        return []
    ids = [row[0] for row in picked]
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in ("bookings", "detainers", "convictions", "charges"):
        cur = con.execute(f"SELECT * FROM {name} WHERE booking_id IN (SELECT unnest(?))", [ids])
        columns = [d[0] for d in cur.description]
        tables[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    cases = {
        c.name: c
        for c in cases_from_rows(tables["bookings"], tables["detainers"], tables["convictions"], tables["charges"])
    }
    out = []
    names = ("notify", "hold_until", "hold_required", "transfer")
    for row in picked:
        diffs = {
            name: (row[2 + 2 * i], row[3 + 2 * i]) for i, name in enumerate(names) if row[2 + 2 * i] != row[3 + 2 * i]
        }
        case = cases[row[0]]
        out.append(SampleCase(row[0], row[1], diffs, _explain(case, policy, packs), _explain(case, vs, packs)))
    return out


@dataclass
class _Totals:
    """What the chunks add up: per-(facility, state, year) sums, errors, certainty, coverage inputs, sample."""

    groups: dict[tuple[str, str, int | None], list[int]] = field(default_factory=dict)  # hours in microseconds
    errors: dict[str, int] = field(default_factory=dict)
    certainty: dict[str, list[int]] = field(default_factory=lambda: {"a": [0, 0, 0], "b": [0, 0, 0]})
    facts: dict[str, dict[str, int]] = field(default_factory=lambda: {"a": {}, "b": {}})
    decided_on: dict[str, dict[tuple[str, date], int]] = field(default_factory=lambda: {"a": {}, "b": {}})
    candidates: list[tuple[int, str, tuple[Any, ...]]] = field(default_factory=list)
    cases: int = 0


def _own_state(policy: Policy, vs: Policy, source: BulkSource) -> tuple[str, str]:
    """SQL for the case's own jurisdiction (a side decided as recorded carries it; else the bookings give it)."""
    if policy.jurisdiction is None:
        return "a.jurisdiction", ""
    if vs.jurisdiction is None:
        return "b.jurisdiction", ""
    return "bk.jurisdiction", f" JOIN {source.bookings} bk ON bk.booking_id = a.booking_id"


def _add(bucket: dict[Any, int], key: Any, count: int) -> None:
    bucket[key] = bucket.get(key, 0) + int(count)


def _reduce(
    con: duckdb.DuckDBPyConnection, acc: _Totals, policy: Policy, vs: Policy, source: BulkSource, sample: int
) -> None:
    """Fold one chunk's ``replay_a`` and ``replay_b`` into the running totals."""
    own, join = _own_state(policy, vs, source)
    for row in con.execute(
        f"""SELECT a.facility_id, upper(split_part({own}, '/', 2)) AS state, year(a.decision_date) AS year,
                   count(*) AS cases, {_measures("a")}, {_measures("b")},
                   count(*) FILTER (WHERE {_DIFFER}) AS differing
            FROM replay_a a JOIN replay_b b USING (booking_id){join}
            WHERE a.error IS NULL AND b.error IS NULL
            GROUP BY ALL"""
    ).fetchall():
        key = (str(row[0]), str(row[1]), None if row[2] is None else int(row[2]))
        sums = acc.groups.setdefault(key, [0] * len(_COUNTS))
        for i, value in enumerate(row[3:]):
            sums[i] += int(value)
    for side, table in (("a", "replay_a"), ("b", "replay_b")):
        for message, count in con.execute(
            f"SELECT error, count(*) FROM {table} WHERE error IS NOT NULL GROUP BY 1"
        ).fetchall():
            _add(acc.errors, f"{side}: {message}", count)
        ((decided, undecided, failed),) = con.execute(
            f"""SELECT count(*) FILTER (WHERE error IS NULL AND NOT undecided),
                       count(*) FILTER (WHERE error IS NULL AND undecided), count(*) FILTER (WHERE error IS NOT NULL)
                FROM {table}"""
        ).fetchall()
        for i, value in enumerate((decided, undecided, failed)):
            acc.certainty[side][i] += int(value)
        for fact, count in con.execute(
            f"""SELECT fact, count(*) FROM (SELECT unnest(undecided_facts) AS fact FROM {table} WHERE undecided)
                GROUP BY fact"""
        ).fetchall():
            _add(acc.facts[side], fact, count)
        for path, day, count in con.execute(
            f"SELECT jurisdiction, decision_date, count(*) FROM {table} WHERE error IS NULL GROUP BY ALL"
        ).fetchall():
            _add(acc.decided_on[side], (path, day), count)
    ((cases,),) = con.execute("SELECT count(*) FROM replay_a").fetchall()
    acc.cases += int(cases)
    if sample:
        for row in con.execute(
            f"""SELECT hash(a.booking_id) AS h, {_SAMPLE_COLUMNS}
                FROM replay_a a JOIN replay_b b USING (booking_id)
                WHERE a.error IS NULL AND b.error IS NULL AND {_DIFFER}
                ORDER BY h, a.booking_id LIMIT ?""",
            [sample],
        ).fetchall():
            acc.candidates.append((int(row[0]), str(row[1]), tuple(row[1:])))
        acc.candidates = sorted(acc.candidates)[:sample]


def _certainty(acc: _Totals, side: str, top: int = 10) -> dict[str, Any]:
    decided, undecided, failed = acc.certainty[side]
    facts = sorted(acc.facts[side].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "decided": decided,
        "undecided": undecided,
        "not_decided": failed,
        "undecided_because": [{"fact": f, "cases": n} for f, n in facts],
    }


def _coverage(acc: _Totals, side: str, policy: Policy, packs: PackSet) -> dict[str, Any]:
    """How many decided cases rest on fewer layers than their jurisdiction names (federal/state law only, ...)."""
    incomplete = 0
    fell_back: dict[str, int] = {}
    for (path, day), count in acc.decided_on[side].items():
        coverage = coverage_of(path, policy.versions_on or day, packs)
        if not coverage.complete:
            incomplete += count
            for layer in coverage.fell_back:
                _add(fell_back, layer, count)
    return {"incomplete": incomplete, "fell_back": dict(sorted(fell_back.items()))}


def _rows(con: duckdb.DuckDBPyConnection, acc: _Totals, by: Grouping) -> list[dict[str, Any]]:
    names = dict(con.execute("SELECT facility_id, name FROM facilities").fetchall())
    merged: dict[tuple[str, int | None], list[int]] = {}
    for (facility, state, year), sums in acc.groups.items():
        label = (str(names.get(facility) or facility)) if by == "facility" else (state or "(no state)")
        into = merged.setdefault((label, year), [0] * len(_COUNTS))
        for i, value in enumerate(sums):
            into[i] += value
    return [_row({by: label, "year": year}, sums) for (label, year), sums in
            sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))]  # fmt: skip


def _row(row: dict[str, Any], sums: list[int]) -> dict[str, Any]:
    """Counts as integers; hours from the exact microsecond sums (unrounded)."""
    for name, value in zip(_COUNTS, sums, strict=True):
        row[name] = value / _US_PER_HOUR if name.startswith("hours_") else value
    for m in MEASURES:
        diff = sums[_COUNTS.index(f"{m}_b")] - sums[_COUNTS.index(f"{m}_a")]
        row[f"{m}_diff"] = diff / _US_PER_HOUR if m == "hours" else diff
    return row


def compare(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    vs: Policy,
    *,
    packs: PackSet | None = None,
    sample: int = 0,
    step: Callable[[str], None] | None = None,
    by: Grouping = "facility",
    chunk: int | None = None,
) -> Comparison:
    """Decide every case under ``policy`` (a) and ``vs`` (b) and aggregate per facility (or state) and year.

    ``chunk``: at most about this many bookings are decided at once (``None``: all at once); the answers are the
    same for every chunk size.
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    packs = packs or default_packs()
    note = step or (lambda _text: None)
    compiled = plan(packs)
    chunks = plan_chunks(con, chunk) if chunk else []
    if len(chunks) > 1:
        note(f"writing {len(chunks)} chunks")
    parts = Partitioned(con, chunks) if len(chunks) > 1 else None
    acc = _Totals()
    try:
        for index in range(max(len(chunks), 1) if parts is not None else 1):
            where = f" (chunk {index + 1} of {len(chunks)})" if parts is not None else ""
            source = parts.source(index) if parts is not None else BulkSource()
            note(f"deciding under {policy.label}{where}")
            bulk_decide(con, source, jurisdiction=policy.jurisdiction, versions_on=policy.versions_on,
                        into="replay_a", compiled=compiled)  # fmt: skip
            note(f"deciding under {vs.label}{where}")
            bulk_decide(con, source, jurisdiction=vs.jurisdiction, versions_on=vs.versions_on, into="replay_b",
                        compiled=compiled)  # fmt: skip
            note(f"comparing{where}")
            _reduce(con, acc, policy, vs, source, sample)
            if parts is not None:
                parts.drop()
                con.execute("DROP TABLE IF EXISTS replay_a")
                con.execute("DROP TABLE IF EXISTS replay_b")
    finally:
        if parts is not None:
            parts.close()
    rows = _rows(con, acc, by)
    totals = _row({}, [sum(col) for col in zip(*acc.groups.values(), strict=True)] or [0] * len(_COUNTS))
    errors = dict(sorted(acc.errors.items(), key=lambda kv: (-kv[1], kv[0])))
    result = Comparison(policy, vs, acc.cases, rows, totals, errors, int(totals["differing"]), by=by)
    result.chunks = len(chunks) if parts is not None else 1
    result.certainty = {side: _certainty(acc, side) for side in ("a", "b")}
    result.coverage = {side: _coverage(acc, side, chosen, packs) for side, chosen in (("a", policy), ("b", vs))}
    if sample:
        note("explaining sample cases")
        result.sample = _explain_sample(con, [c[2] for c in acc.candidates], policy, vs, packs)
    return result
