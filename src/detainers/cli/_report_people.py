"""``detainers report`` on people and time: outcomes, monthly bookings, held-longer, re-arrest, reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detainers.analytics import CAVEATS as REARREST_CAVEATS
from detainers.analytics import (
    DENOMINATORS,
    Outcome,
    bar_chart,
    bookings_by_month,
    compare_monthly_table,
    held_longer,
    line_chart,
    outcome_report,
    rearrest,
    reconcile,
)
from detainers.cli._report import (
    BookingsOpt,
    ChargesOpt,
    ChartOpt,
    CsvOpt,
    JsonOpt,
    MappingOpt,
    Shown,
    StoreOpt,
    _emit,
    _fail,
    _jail,
    _pct,
    _warn,
    report_app,
)
from detainers.cli._tables import Table
from detainers.ingest import LayoutError, Store, TableReadError, load_detainers

__all__: list[str] = []


@report_app.command("outcomes")
def outcomes(
    input_file: Annotated[
        Path | None, typer.Option("--input", help="An ICE detainer file (CSV, XLSX or Parquet; may be compressed).")
    ] = None,
    store: Annotated[
        Path | None, typer.Option("--store", help="Or the ICE detainer rows of a store (detainers import detainers).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="npr, ddp or auto.")] = "auto",
    by: Annotated[
        str | None, typer.Option("--by", help="Group by: facility,state,year,fiscal_year,month,form.")
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Workbook sheet.")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    chart: ChartOpt = None,
) -> None:
    """What became of the detainers in a release: seven outcomes, each rate with its denominator named.

    Denominators: [bold]of detainers issued[/] (rows after de-duplication), [bold]of resolved[/] (a lift reason
    recorded), [bold]of decisions by the jail[/] (booked_by_ice + declined_by_lea).

    Example:

        detainers report outcomes --input pa_detainers.csv --format npr --by year
        detainers report outcomes --store store/ --by fiscal_year
    """
    keys = [key.strip() for key in by.split(",")] if by else []
    if (input_file is None) == (store is None):
        raise _fail("give --input FILE or --store STORE (one of them)")
    rejected = 0
    try:
        if store is not None:
            if not (store / "catalog.duckdb").exists():
                raise _fail(f"{store} is not a store (no catalog.duckdb)")
            frame = Store(store).table("detainers")
            if frame.height == 0:
                raise _fail(f"store {store} holds no ICE detainer rows; import them with detainers import detainers")
            layouts = ",".join(sorted(frame["layout"].drop_nulls().unique().to_list())) or "unknown"
            source = str(store)
        else:
            assert input_file is not None
            load = load_detainers(input_file, fmt=fmt, sheet=sheet)
            frame, layouts, source, rejected = load.frame, load.layout.value, str(input_file), len(load.rejects)
        report = outcome_report(frame, source=source, layout=layouts, by=keys)
    except (LayoutError, TableReadError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if rejected:
        report.notes.insert(0, f"{rejected:,} malformed row(s) left out (see detainers import detainers)")
    shown = Path(source).name
    if chart is not None and not report.overall.available:
        _warn("no chart: outcomes are not available from this data")
    elif chart is not None:
        bar_chart(
            chart,
            list(report.overall.by_outcome),
            list(report.overall.by_outcome.values()),
            title=f"Detainer outcomes: {shown}",
            ylabel="detainers",
        )

    def render(console: Console) -> None:
        overall = report.overall
        console.print(f"[bold]Detainer outcomes[/] — {shown} ({report.layout})")
        console.print(
            f"total rows {overall.total_rows:,}; detainers issued (de-duplicated) {overall.deduplicated_total:,}"
        )
        console.print(f"de-duplication: {report.deduplication}", soft_wrap=True)
        if not overall.available:
            console.print("[bold]outcomes: not available[/] — no row of this data records a lift reason")
            return
        table = Table("outcome", "count", *[f"% {name}" for name in DENOMINATORS.values()])
        for name, rates in overall.rates().items():
            table.add_row(
                name,
                f"{rates['issued'].numerator:,}",
                *[_pct(rates[k].share) if k in rates else "—" for k in DENOMINATORS],
            )
        console.print(table)
        console.print("[bold]Every rate with its numerator and denominator:[/]")
        for name, rates in overall.rates().items():
            if name == "unclassified" and not overall.unclassified:
                continue
            console.print(f"  {name}: " + "; ".join(rate.text() for rate in rates.values()), soft_wrap=True)
        if report.groups:
            grouped = Table(*report.by, "issued", *[o.value for o in Outcome], "declined of jail decisions")
            for key, counts in report.groups:
                rate = counts.rates()[Outcome.DECLINED_BY_LEA.value]["jail_decisions"]
                grouped.add_row(
                    *key.values(),
                    f"{counts.deduplicated_total:,}",
                    *[f"{counts.by_outcome[o.value]:,}" for o in Outcome],
                    rate.text(),
                )
            console.print(grouped)
        for note in report.notes:
            console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
        console.print(
            "[dim]definitions: detainers issued = rows after de-duplication; resolved = a lift reason "
            "recorded; decisions by the jail = booked_by_ice + declined_by_lea[/]",
            soft_wrap=True,
        )
        for caveat in report.as_dict()["caveats"]:  # type: ignore[attr-defined]
            console.print(f"[dim]caveat: {caveat}[/]", soft_wrap=True)

    _emit(Shown(report.as_dict(), report.csv_rows(), render), as_json, as_csv)


# ---- monthly ----------------------------------------------------------------------------------------------------
@report_app.command("monthly")
def monthly(
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    since: Annotated[str | None, typer.Option("--since", help="First month, YYYY-MM.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last month, YYYY-MM.")] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A published table (month,total,felony,violent) to check.")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    chart: ChartOpt = None,
) -> None:
    """Bookings with an immigration detainer by month, with at least one felony / violent charge.

    Classification: felony by the mapping's levels (the hold line itself never counts); violent by the documented
    charge-text patterns (docs/reports.md).

    Example:

        detainers report monthly --mapping examples/mappings/travis_county_tx.yaml
            --bookings travis_ice_detainer_bookings.csv --charges travis_ice_detainer_charges.csv --since 2006-01
    """
    jail = _jail(store, mapping, charges, bookings)
    rows = bookings_by_month(jail.bookings, jail.charges, since=since, until=until)
    payload: dict[str, object] = {"report": "monthly", "months": [row.as_dict() for row in rows]}
    checks = compare_monthly_table(rows, compare) if compare else None
    if checks:
        payload["comparison"] = {
            name: {
                "months": len(cells),
                "matching": sum(c.matches for c in cells),
                "differing": [
                    {"month": c.key[0], "ours": c.ours, "published": c.published} for c in cells if not c.matches
                ],
            }
            for name, cells in checks.items()
        }
    series: dict[str, Sequence[float]] = {"bookings with a detainer": [r.bookings for r in rows]}
    if rows and rows[0].with_felony is not None:
        series["with a felony"] = [r.with_felony or 0 for r in rows]
    if rows and rows[0].with_violent is not None:
        series["with a violent charge"] = [r.with_violent or 0 for r in rows]
    if chart is not None:
        line_chart(
            chart,
            [r.month for r in rows],
            series,
            title="Bookings with an immigration detainer, by month",
            ylabel="bookings",
        )

    def render(console: Console) -> None:
        table = Table(
            "month",
            "bookings with a detainer",
            "≥1 felony",
            "≥1 violent",
            title="Bookings with an immigration detainer",
        )
        for row in rows:
            table.add_row(
                row.month,
                f"{row.bookings:,}",
                f"{row.with_felony:,}" if row.with_felony is not None else "not available",
                f"{row.with_violent:,}" if row.with_violent is not None else "not available",
            )
        console.print(table)
        if rows and (rows[0].with_felony is None or rows[0].with_violent is None):
            console.print(
                "[dim]not available: the export gives no charge levels (felony) or no charge texts (violent)[/]"
            )
        if checks:
            for name, cells in checks.items():
                console.print(f"{name}: {sum(c.matches for c in cells)} of {len(cells)} published months match")

    csv_rows = [row.as_dict() | {"felony_rate": None, "violent_rate": None} for row in rows]
    _emit(Shown(payload, csv_rows, render), as_json, as_csv)


# ---- held longer ------------------------------------------------------------------------------------------------
@report_app.command("held-longer")
def held_longer_cmd(
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    clock: Annotated[
        str,
        typer.Option(
            "--clock",
            help="elapsed (true elapsed time) or local (wall-clock time in the jail's zone, as an analysis of naive "
            "local timestamps computes it: an hour apart across a DST change).",
        ),
    ] = "elapsed",
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    chart: ChartOpt = None,
) -> None:
    """Bookings held longer because of the detainer (hold released after every other charge), with stay lengths.

    --json gives every number unrounded; --csv gives one row per booking: booking id, hold or not, the verdict,
    the extra days, the length of stay by the booking's own release and by its latest charge line.

    Example:

        detainers report held-longer --store store/ --json
    """
    jail = _jail(store, mapping, charges, bookings)
    if clock not in ("elapsed", "local"):
        raise _fail(f"--clock must be elapsed or local, not {clock!r}")
    try:
        report = held_longer(jail.bookings, jail.charges, clock=clock)  # type: ignore[arg-type]
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    los = report.length_of_stay
    if chart is not None:
        bar_chart(
            chart,
            ["with hold: mean", "with hold: median", "without: mean", "without: median"],
            [
                float(los["with_hold"]["mean"] or 0),
                float(los["with_hold"]["median"] or 0),
                float(los["without_hold"]["mean"] or 0),
                float(los["without_hold"]["median"] or 0),
            ],
            title="Length of stay (days)",
            ylabel="days",
        )

    def render(console: Console) -> None:
        console.print(f"held longer because of the detainer: {report.rate().text()}", soft_wrap=True)
        console.print(
            f"extra time when held longer: mean {_days(report.extra_days_mean)}, "
            f"median {_days(report.extra_days_median)}"
        )
        console.print(f"not judged: {report.hold_only:,} hold-only booking(s), {report.open_hold:,} still open")
        table = Table("bookings", "n", "mean days", "median days", title=f"Length of stay ({report.clock} clock)")
        for label, stats in los.items():
            table.add_row(
                label.replace("_", " "),
                f"{stats['bookings']:,}",
                _days(stats["mean"], unit=False),
                _days(stats["median"], unit=False),
            )
        console.print(table)
        console.print("[dim]--json gives every number unrounded; --csv one row per booking[/]")

    _emit(Shown(report.as_dict(), report.csv_rows(), render), as_json, as_csv)


def _days(value: float | int | None, *, unit: bool = True) -> str:
    """Rounded for people (the table); JSON and CSV keep every digit."""
    if value is None:
        return "not available"
    return f"{value:,.2f}" + (" days" if unit else "")


# ---- re-arrest --------------------------------------------------------------------------------------------------
@report_app.command("rearrest")
def rearrest_cmd(
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    data_end: Annotated[str | None, typer.Option("--data-end", help="Last day the export covers (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Re-arrest (a new booking) within 1, 3 and 5 years of release: Kaplan–Meier cumulative incidence with 95% CIs.

    Example:

        detainers report rearrest --store store/ --data-end 2019-12-31
    """
    jail = _jail(store, mapping, charges, bookings)
    if jail.bookings["person_id"].is_null().all():
        raise _fail("re-arrest needs a person identifier (person_id in the mapping); this export has none")
    report = rearrest(jail.bookings, jail.charges, data_end=date.fromisoformat(data_end) if data_end else None)
    rows: list[dict[str, object]] = [
        {
            "cohort": c.name,
            "people": c.people,
            "events": c.events,
            "horizon": k,
            "cumulative_incidence": h.incidence,
            "ci_lower": h.lower,
            "ci_upper": h.upper,
            "at_risk": h.at_risk,
        }
        for c in report.cohorts
        for k, h in c.horizons.items()
    ]

    def render(console: Console) -> None:
        table = Table(
            "cohort",
            "people",
            "re-arrested",
            "1 year",
            "3 years",
            "5 years",
            title=f"Re-arrest after release (data end {report.data_end})",
        )
        for c in report.cohorts:
            cells = []
            for key in ("1y", "3y", "5y"):
                h = c.horizons.get(key)
                cells.append(
                    "not estimable"
                    if h is None or h.incidence is None
                    else f"{h.incidence:.1%} [{h.lower:.1%}–{h.upper:.1%}] (at risk {h.at_risk})"
                )
            table.add_row(c.name, f"{c.people:,}", f"{c.events:,}", *cells)
        console.print(table)
        for caveat in REARREST_CAVEATS:
            console.print(f"[dim]caveat: {caveat}[/]", soft_wrap=True)

    _emit(Shown(report.as_dict(), rows, render), as_json, as_csv)


# ---- reconciliation ---------------------------------------------------------------------------------------------
@report_app.command("reconcile")
def reconcile_cmd(
    detainers_file: Annotated[Path, typer.Option("--detainers", help="ICE's detainer release (any layout).")],
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    facility: Annotated[str | None, typer.Option("--facility", help="Facility name as ICE spells it.")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Compare a jail's own records with ICE's release for the same facility and months, by category.

    Example:

        detainers report reconcile --store store/ --detainers ice_release.xlsx --facility "TRAVIS COUNTY JAIL"
    """
    jail = _jail(store, mapping, charges, bookings)
    name = facility or jail.facility
    if not name:
        raise _fail("give --facility (the name ICE uses for this jail)")
    try:
        load = load_detainers(detainers_file)
    except (LayoutError, TableReadError) as exc:
        raise _fail(str(exc)) from exc
    result = reconcile(jail.bookings, jail.charges, load.frame, name)

    def render(console: Console) -> None:
        if not result.months:
            console.print(f"no month is covered by both the jail data and ICE's rows for {name!r}")
            return
        console.print(f"{name}: {result.months[0]} to {result.months[-1]} ({len(result.months)} months)")
        table = Table("category", "jail", "ICE", "difference", "possible causes")
        for cat in result.categories:
            table.add_row(
                f"{cat['category']}\n[dim]{cat['jail_definition']} / {cat['ice_definition']}[/]",
                str(cat["jail"]),
                str(cat["ice"]),
                str(cat["difference"]),
                str(cat["possible_causes"]),
            )
        console.print(table)

    _emit(Shown(result.as_dict(), result.categories, render), as_json, as_csv)


# ---- concordance ------------------------------------------------------------------------------------------------
