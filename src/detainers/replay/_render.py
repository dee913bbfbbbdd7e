"""Comparison output: a Rich terminal table, JSON, CSV and Parquet."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table

from detainers.replay._compare import MEASURES, Comparison

__all__ = ["render", "to_csv", "to_json_dict", "write_parquet"]

_DESCRIPTIONS = {
    "notify": "notify: ICE may be told the release date",
    "hold": "hold: custody past release authorised",
    "hold_required": "hold required by state law",
    "transfer": "transfer: ICE may take custody at the jail",
    "hours": "hours of custody beyond release authorised",
}


def _num(value: Any, measure: str) -> str:
    v = float(value)
    if abs(v) >= 100_000:
        return f"{v / 1000:,.0f}k"
    return f"{v:,.0f}" if measure == "hours" else f"{int(v):,}"


def _diff(value: Any, measure: str) -> str:
    text = _num(value, measure)
    if value > 0:
        return f"[green]+{text}[/green]"
    if value < 0:
        return f"[red]{text}[/red]"
    return "[dim]±0[/dim]"


def render(cmp: Comparison, *, measures: tuple[str, ...] = MEASURES) -> RenderableType:
    """Totals per outcome (A, B, B−A), then per outcome one row per facility and year."""
    a, b = cmp.policy.label, cmp.vs.label
    t = cmp.totals
    head = Table(title=f"A = {a}\nB = {b}", title_justify="left", expand=False)
    head.add_column("outcome (all cases)")
    for side in ("A", "B", "B − A"):
        head.add_column(side, justify="right")
    for m in MEASURES:
        head.add_row(_DESCRIPTIONS[m], _num(t[f"{m}_a"], m), _num(t[f"{m}_b"], m), _diff(t[f"{m}_diff"], m))
    # One narrow table per outcome (facility, year, A, B, B − A) stays readable in an 80-column terminal,
    # where one wide table would squeeze the year column away.
    tables: list[RenderableType] = []
    for m in measures:
        table = Table(title=f"{_DESCRIPTIONS[m]} — per {cmp.by} and year", title_justify="left", expand=False)
        table.add_column(cmp.by, no_wrap=True, overflow="ellipsis", max_width=30)
        table.add_column("year", justify="right", no_wrap=True, min_width=4)
        table.add_column("cases", justify="right", no_wrap=True)
        for side in ("A", "B", "B − A"):
            table.add_column(side, justify="right", no_wrap=True)
        for row in cmp.rows:
            table.add_row(
                str(row[cmp.by]),
                str(row["year"]),
                f"{row['cases']:,}",
                _num(row[f"{m}_a"], m),
                _num(row[f"{m}_b"], m),
                _diff(row[f"{m}_diff"], m),
            )
        tables.append(table)
    lines = [f"{cmp.cases:,} cases; {t['differing']:,} decided differently (notify, hold or transfer)."]
    if cmp.errors:
        lines.append("Not decided: " + "; ".join(f"{k} ({v:,})" for k, v in cmp.errors.items()))
    lines += _certainty_lines(cmp)
    for side, label in (("a", "A"), ("b", "B")):
        cov = cmp.coverage.get(side)
        if cov and cov["incomplete"]:
            layers = ", ".join(f"{k} ({v:,})" for k, v in cov["fell_back"].items())
            lines.append(
                f"[yellow]Coverage {label}:[/yellow] {cov['incomplete']:,} cases decided without every layer of "
                f"their jurisdiction encoded (the layers above decided); not encoded: {layers}"
            )
    parts: list[RenderableType] = [head, *tables, "\n".join(lines)]
    for s in cmp.sample:
        diffs = ", ".join(f"{k}: A {_show(v[0])} → B {_show(v[1])}" for k, v in s.differences.items())
        body = (
            f"[bold]{diffs}[/bold]\n\n[underline]A ({a})[/underline]\n"
            + "\n".join(s.explanation_a)
            + f"\n\n[underline]B ({b})[/underline]\n"
            + "\n".join(s.explanation_b)
        )
        parts.append(Panel(body, title=f"{s.booking_id} at {s.facility}", expand=False))
    return Group(*parts)


def _certainty_lines(cmp: Comparison) -> list[str]:
    out = []
    for side, label in (("a", "A"), ("b", "B")):
        c = cmp.certainty.get(side)
        if not c:
            continue
        line = (
            f"{label}: {c['decided']:,} decided on established facts, {c['undecided']:,} undecided (the answer rests "
            f"on facts the data cannot establish), {c['not_decided']:,} not decided"
        )
        if c["undecided_because"]:
            top = c["undecided_because"][:3]
            line += "; most often: " + "; ".join(f"{x['fact']} ({x['cases']:,})" for x in top)
        out.append(line)
    if cmp.excluded:
        out.append(
            "Bookings with a hold that could not become cases: "
            + "; ".join(f"{why} ({n:,})" for why, n in cmp.excluded.items())
        )
    return out


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json_dict(cmp: Comparison) -> dict[str, Any]:
    return {
        "policy_a": {"label": cmp.policy.label, "jurisdiction": cmp.policy.jurisdiction,
                     "versions_on": cmp.policy.versions_on.isoformat() if cmp.policy.versions_on else None},
        "policy_b": {"label": cmp.vs.label, "jurisdiction": cmp.vs.jurisdiction,
                     "versions_on": cmp.vs.versions_on.isoformat() if cmp.vs.versions_on else None},
        "measures": _DESCRIPTIONS,
        "by": cmp.by,
        "chunks": cmp.chunks,
        "cases": cmp.cases,
        "differing": cmp.differing,
        "errors": cmp.errors,
        "certainty": cmp.certainty,
        "excluded_bookings": cmp.excluded,
        "coverage": cmp.coverage,
        "totals": {k: _plain(v) for k, v in cmp.totals.items()},
        "rows": [{k: _plain(v) for k, v in r.items()} for r in cmp.rows],
        "sample": [
            {
                "booking_id": s.booking_id,
                "facility": s.facility,
                "differences": {k: [_plain(v[0]), _plain(v[1])] for k, v in s.differences.items()},
                "explanation_a": list(s.explanation_a),
                "explanation_b": list(s.explanation_b),
            }
            for s in cmp.sample
        ],
    }  # fmt: skip


def to_csv(cmp: Comparison) -> str:
    buffer = io.StringIO()
    if not cmp.rows:
        return ""
    writer = csv.DictWriter(buffer, fieldnames=["policy_a", "policy_b", *cmp.rows[0].keys()], lineterminator="\n")
    writer.writeheader()
    for row in cmp.rows:
        writer.writerow({"policy_a": cmp.policy.label, "policy_b": cmp.vs.label, **row})
    return buffer.getvalue()


def write_parquet(cmp: Comparison, path: Path) -> None:
    table = pa.Table.from_pylist([{"policy_a": cmp.policy.label, "policy_b": cmp.vs.label, **row} for row in cmp.rows])
    pq.write_table(table.replace_schema_metadata({"detainers.replay": json.dumps(to_json_dict(cmp)["totals"])}), path)


def print_json(cmp: Comparison, console: Console) -> None:
    console.print_json(json.dumps(to_json_dict(cmp)))
