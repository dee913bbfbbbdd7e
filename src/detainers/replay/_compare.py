"""Replay one population under two policies and count, per facility and year, what each would allow.

Counts per outcome: ``notify`` (ICE may be told the release date), ``hold`` (custody past release eligibility
authorised), ``hold_required``, ``transfer`` (ICE may take custody at the jail). ``hours`` is the summed custody
beyond release eligibility each policy would authorise (hold deadline minus eligibility, over cases with one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from detainers.law import PackSet, coverage_of, default_packs
from detainers.law.bulk import BulkSource, bulk_decide, cases_from_rows, plan
from detainers.replay._policy import Policy

__all__ = ["MEASURES", "Comparison", "SampleCase", "compare"]

MEASURES = ("notify", "hold", "hold_required", "transfer", "hours")


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


def _measures(alias: str) -> str:
    return (
        f"count(*) FILTER (WHERE {alias}.notify) AS notify_{alias}, "
        f"count(*) FILTER (WHERE {alias}.hold_hours > 0) AS hold_{alias}, "
        f"count(*) FILTER (WHERE {alias}.hold_required) AS hold_required_{alias}, "
        f"count(*) FILTER (WHERE {alias}.transfer <> 'not_allowed') AS transfer_{alias}, "
        f"COALESCE(sum({alias}.hold_hours), 0) AS hours_{alias}"
    )


_DIFFER = (
    "(a.notify IS DISTINCT FROM b.notify OR a.hold_until IS DISTINCT FROM b.hold_until "
    "OR a.hold_required IS DISTINCT FROM b.hold_required OR a.transfer IS DISTINCT FROM b.transfer)"
)


def _explain(case: Any, policy: Policy, packs: PackSet) -> tuple[str, ...]:
    from detainers.law import DecisionError, decide

    try:
        d = decide(case, packs=packs, jurisdiction=policy.jurisdiction, versions_on=policy.versions_on)
    except DecisionError as exc:
        return (f"refused: {exc}",)
    return tuple(f"{s.kind}: {s.text}" for s in d.explanation)


def _sample(con: duckdb.DuckDBPyConnection, n: int, policy: Policy, vs: Policy, packs: PackSet) -> list[SampleCase]:
    picked = con.execute(
        f"""SELECT a.booking_id, a.facility_id, a.notify, b.notify, a.hold_until, b.hold_until,
                   a.hold_required, b.hold_required, a.transfer, b.transfer
            FROM replay_a a JOIN replay_b b USING (booking_id)
            WHERE a.error IS NULL AND b.error IS NULL AND {_DIFFER}
            ORDER BY hash(a.booking_id), a.booking_id LIMIT ?""",
        [n],
    ).fetchall()
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


def _certainty(con: duckdb.DuckDBPyConnection, table: str, top: int = 10) -> dict[str, Any]:
    """Decided / undecided / not decided counts of one side, and the facts undecided answers most often rest on."""
    ((decided, undecided, failed),) = con.execute(
        f"""SELECT count(*) FILTER (WHERE error IS NULL AND NOT undecided),
                   count(*) FILTER (WHERE error IS NULL AND undecided), count(*) FILTER (WHERE error IS NOT NULL)
            FROM {table}"""
    ).fetchall()
    facts = con.execute(
        f"""SELECT fact, count(*) AS n FROM (SELECT unnest(undecided_facts) AS fact FROM {table} WHERE undecided)
            GROUP BY fact ORDER BY n DESC, fact LIMIT {int(top)}"""
    ).fetchall()
    return {
        "decided": int(decided),
        "undecided": int(undecided),
        "not_decided": int(failed),
        "undecided_because": [{"fact": f, "cases": int(n)} for f, n in facts],
    }


def _coverage(con: duckdb.DuckDBPyConnection, table: str, policy: Policy, packs: PackSet) -> dict[str, Any]:
    """How many decided cases rest on fewer layers than their jurisdiction names (federal/state law only, ...)."""
    incomplete = 0
    fell_back: dict[str, int] = {}
    for path, day, count in con.execute(
        f"SELECT jurisdiction, decision_date, count(*) FROM {table} WHERE error IS NULL GROUP BY ALL"
    ).fetchall():
        coverage = coverage_of(path, policy.versions_on or day, packs)
        if not coverage.complete:
            incomplete += int(count)
            for layer in coverage.fell_back:
                fell_back[layer] = fell_back.get(layer, 0) + int(count)
    return {"incomplete": incomplete, "fell_back": dict(sorted(fell_back.items()))}


def compare(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    vs: Policy,
    *,
    packs: PackSet | None = None,
    sample: int = 0,
    step: Callable[[str], None] | None = None,
) -> Comparison:
    """Decide every case under ``policy`` (a) and ``vs`` (b) and aggregate per facility and year."""
    packs = packs or default_packs()
    note = step or (lambda _text: None)
    compiled = plan(packs)
    note(f"deciding under {policy.label}")
    bulk_decide(con, BulkSource(), jurisdiction=policy.jurisdiction, versions_on=policy.versions_on, into="replay_a",
                compiled=compiled)  # fmt: skip
    note(f"deciding under {vs.label}")
    bulk_decide(con, BulkSource(), jurisdiction=vs.jurisdiction, versions_on=vs.versions_on, into="replay_b",
                compiled=compiled)  # fmt: skip
    note("comparing")
    diff_cols = ", ".join(f"{m}_b - {m}_a AS {m}_diff" for m in MEASURES)
    query = f"""
        WITH per AS (
          SELECT COALESCE(f.name, a.facility_id) AS facility, year(a.decision_date) AS year, count(*) AS cases,
                 {_measures("a")}, {_measures("b")},
                 count(*) FILTER (WHERE {_DIFFER}) AS differing
          FROM replay_a a JOIN replay_b b USING (booking_id)
          LEFT JOIN facilities f ON f.facility_id = a.facility_id
          WHERE a.error IS NULL AND b.error IS NULL
          GROUP BY ALL
        )
        SELECT *, {diff_cols} FROM per ORDER BY facility, year
    """
    cur = con.execute(query)
    columns = [d[0] for d in cur.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
    totals: dict[str, Any] = {"cases": sum(r["cases"] for r in rows), "differing": sum(r["differing"] for r in rows)}
    for m in MEASURES:
        for side in ("a", "b", "diff"):
            value = sum(r[f"{m}_{side}"] for r in rows)
            totals[f"{m}_{side}"] = value
    errors: dict[str, int] = {}
    for side, table in (("a", "replay_a"), ("b", "replay_b")):
        for message, count in con.execute(
            f"SELECT error, count(*) FROM {table} WHERE error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall():
            errors[f"{side}: {message}"] = int(count)
    ((count,),) = con.execute("SELECT count(*) FROM replay_a").fetchall()
    cases = int(count)
    result = Comparison(policy, vs, cases, rows, totals, errors, int(totals["differing"]))
    result.certainty = {side: _certainty(con, table) for side, table in (("a", "replay_a"), ("b", "replay_b"))}
    result.coverage = {
        side: _coverage(con, table, chosen, packs)
        for side, table, chosen in (("a", "replay_a", policy), ("b", "replay_b", vs))
    }
    if sample:
        note("explaining sample cases")
        result.sample = _sample(con, sample, policy, vs, packs)
    return result
