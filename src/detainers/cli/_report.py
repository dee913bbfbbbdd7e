"""``detainers report``: numbers from imported data, each rate with its numerator, denominator and their names."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape

from detainers.analytics import (
    DENOMINATORS,
    TRUTH_ACT_ANSWERS,
    Outcome,
    bar_chart,
    bookings_by_month,
    compare_monthly_table,
    concordance,
    held_longer,
    illinois_805_25_rows,
    line_chart,
    outcome_report,
    rearrest,
    reconcile,
    truth_act_annual,
    truth_act_notices,
)
from detainers.analytics._concordance import JAIL as JAIL_ACTIONS
from detainers.analytics._rearrest import CAVEATS as REARREST_CAVEATS
from detainers.cli._ingest import charge_parts
from detainers.cli._tables import Table
from detainers.ingest import LayoutError, MappingError, Store, TableReadError, load_detainers, load_jail, load_mapping

__all__ = ["register"]

report_app = typer.Typer(
    name="report",
    help="Reports with named denominators: outcomes, monthly bookings, held-longer, re-arrest, reconciliation, "
    "policy concordance, TRUTH Act and Illinois 805/25 figures.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print the report as CSV.")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Also draw a chart to this .png or .svg file.")]
StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="Read jail data from this store (detainers import jail).")
]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="Or read a jail export directly: its mapping file.")]
ChargesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--charges",
        help="With --mapping: the charges file; repeat for several, LABEL=FILE to name the jail's list each one is.",
    ),
]
BookingsOpt = Annotated[Path | None, typer.Option("--bookings", help="With --mapping: the bookings file, if any.")]
AnyJurisdictionOpt = Annotated[
    bool, typer.Option("--any-jurisdiction", help="Run a state's report on a jail of another state anyway.")
]


def _console() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    """One line on stderr (never a traceback), exit 2."""
    _err().print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _warn(message: str) -> None:
    _err().print(f"[yellow]warning:[/] {escape(message)}")


def _emit(
    payload: dict[str, object], rows: list[dict[str, object]], as_json: bool, as_csv: bool, render: Callable[[], None]
) -> None:
    if as_json:
        typer.echo(json.dumps(payload, indent=2, default=str))
    elif as_csv:
        buffer = io.StringIO()
        fields: list[str] = []
        for row in rows:
            fields += [key for key in row if key not in fields]
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()})
        typer.echo(buffer.getvalue(), nl=False)
    else:
        render()


class _Jail:
    def __init__(
        self,
        bookings: pl.DataFrame,
        charges: pl.DataFrame,
        jurisdiction: str | None,
        zone: str | None,
        facility: str | None,
    ) -> None:
        self.bookings, self.charges = bookings, charges
        self.jurisdiction, self.timezone, self.facility = jurisdiction, zone, facility


def _jail(store: Path | None, mapping: Path | None, charges: list[str] | None, bookings: Path | None) -> _Jail:
    if mapping is not None:
        if not charges:
            raise _fail("--mapping needs --charges (and --bookings when the mapping has a bookings file)")
        try:
            spec = load_mapping(mapping)
            load = load_jail(spec, charges=charge_parts(charges), bookings=bookings)
        except (MappingError, TableReadError, ValueError) as exc:
            raise _fail(str(exc)) from exc
        if load.rejects:
            _warn(
                f"{len(load.rejects):,} malformed row(s) left out "
                "(run detainers import jail to see them and keep a rejects file)"
            )
        for warning in load.warnings:
            _warn(warning)
        return _Jail(load.bookings, load.charges, spec.jurisdiction, spec.timezone, spec.facility)
    if store is None:
        raise _fail("give --store, or --mapping with --charges")
    if not (store / "catalog.duckdb").exists():
        raise _fail(f"{store} is not a store (no catalog.duckdb); create one with detainers import jail")
    st = Store(store)
    b, c = st.table("jail_bookings"), st.table("jail_charges")
    if b.height == 0:
        raise _fail(f"store {store} holds no jail data; run detainers import jail first")
    jurisdictions = b["jurisdiction"].drop_nulls().unique().to_list()
    facilities = b["facility"].drop_nulls().unique().to_list()
    zones = b["timezone"].drop_nulls().unique().to_list()
    return _Jail(
        b,
        c,
        jurisdictions[0] if len(jurisdictions) == 1 else None,
        zones[0] if len(zones) == 1 else None,
        facilities[0] if len(facilities) == 1 else None,
    )


def _one_state(jail: _Jail, state: str, report: str, law: str, anyway: bool) -> None:
    """A state's report on another state's jail is refused (one line), unless the user insists."""
    where = jail.jurisdiction or ""
    if where.startswith(f"us/{state}") or anyway:
        if anyway and not where.startswith(f"us/{state}"):
            _warn(f"{report} is {law}; this data is {where or 'of no single jurisdiction'} (run anyway as asked)")
        return
    raise _fail(
        f"{report} is {law}, which binds {state.upper()} agencies only; this data is "
        f"{where or 'of no single jurisdiction'} (--any-jurisdiction runs it anyway)"
    )


def _year_in_data(jail: _Jail, year: int) -> None:
    """Refuse a year the data do not cover: no rows there means "not in this export", not "certify zero"."""
    dates = jail.bookings["booked_on"].drop_nulls() if "booked_on" in jail.bookings.columns else None
    if dates is None or dates.len() == 0:
        raise _fail(f"--year {year}: the data carry no booking dates, so no year can be certified from them")
    first, last = str(dates.min()), str(dates.max())
    first_year, last_year = int(first[:4]), int(last[:4])
    if not first_year <= year <= last_year:
        raise _fail(
            f"--year {year} is outside the data (bookings {first} to {last}): an empty report for it would certify "
            "a zero the data cannot support"
        )


def _pct(share: float | None) -> str:
    return f"{share * 100:.1f}%" if share is not None else "—"


# ---- outcomes ---------------------------------------------------------------------------------------------------
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

    def render() -> None:
        console = _console()
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

    _emit(report.as_dict(), report.csv_rows(), as_json, as_csv, render)


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

    def render() -> None:
        console = _console()
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

    _emit(
        payload, [row.as_dict() | {"felony_rate": None, "violent_rate": None} for row in rows], as_json, as_csv, render
    )


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

    def render() -> None:
        console = _console()
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

    _emit(report.as_dict(), report.csv_rows(), as_json, as_csv, render)


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

    def render() -> None:
        console = _console()
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

    _emit(report.as_dict(), rows, as_json, as_csv, render)


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

    def render() -> None:
        console = _console()
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

    _emit(result.as_dict(), result.categories, as_json, as_csv, render)


# ---- concordance ------------------------------------------------------------------------------------------------
def _instant_option(value: str | None, option: str) -> datetime | date | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value) if "T" in value or " " in value.strip() else date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} {value!r}: give a date (2017-02-01) or a local time (2017-02-01T08:00)") from None


@report_app.command("concordance")
def concordance_cmd(
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    jurisdiction: Annotated[str | None, typer.Option("--jurisdiction", help="e.g. us/tx/travis")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="IANA zone of the jail.")] = None,
    decided_at: Annotated[
        str | None,
        typer.Option(
            "--decided-at",
            help="With recorded decisions: the instant the jail decided (local date or time), used where the data "
            "give none; never before a booking.",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Without decisions: judge bookings still in custody at this date (default: data end)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Decide only the first N bookings.")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The jail's decisions on detainers against what its policy packs say (detainers.law), in bookings.

    With the jail's recorded decisions (mapping version 2 decisions:, e.g. lists of detainers accepted and
    declined): a confusion table (policy requires / allows / forbids honouring, or undecided, against the jail
    honoured / declined), both directions of disagreement, each disagreeing booking by its own number with its
    charges and the full explanation. Without them: releases against the policy. Answers resting on facts the data
    cannot establish (unknown statutes, missing levels) are counted apart as undecided, with the facts named.

    Example:

        detainers report concordance --store store/ --decided-at 2017-02-01
    """
    from detainers.law import JurisdictionError, check_jurisdiction, default_zone

    jail = _jail(store, mapping, charges, bookings)
    where = jurisdiction or jail.jurisdiction
    if not where:
        raise _fail("give --jurisdiction (e.g. us/tx/travis)")
    try:
        where = check_jurisdiction(where)
    except JurisdictionError as exc:
        raise _fail(str(exc)) from None
    zone = timezone or jail.timezone or default_zone(where)
    if not zone:
        raise _fail("give --timezone")
    try:
        report = concordance(
            jail.bookings,
            jail.charges,
            jurisdiction=where,
            timezone=zone,
            limit=limit,
            decided_at=_instant_option(decided_at, "--decided-at"),
            as_of=_instant_option(as_of, "--as-of"),
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc

    def render() -> None:
        console = _console()
        total = report.decided + len(report.undecided) + report.undecidable
        console.print(
            f"{where}: {total:,} booking(s) with a detainer — {report.decided:,} decided on established facts "
            f"({report.agree:,} agree, {report.disagreeing_bookings:,} disagree); {len(report.undecided):,} "
            f"undecided (the answer rests on facts the data cannot establish); {report.undecidable:,} not decidable",
            soft_wrap=True,
        )
        if report.mode == "decisions":
            table = Table("policy says", *JAIL_ACTIONS, "bookings", title="What the policy says × what the jail did")
            for policy, row in report.confusion.items():
                table.add_row(policy, *[f"{row[j]:,}" for j in JAIL_ACTIONS], f"{sum(row.values()):,}")
            console.print(table)
            if report.decision_instant:
                console.print(f"[dim]decided at each booking's own decision instant, else {report.decision_instant}[/]")
        for direction, n in report.directions.items():
            console.print(f"  {direction.replace('_', ' ')}: {n:,} booking(s)")
        for why, n in report.undecidable_reasons.items():
            console.print(f"  not decidable: {escape(why)} ×{n:,}", soft_wrap=True)
        for d in report.disagreements:
            console.print(
                f"\n[bold]{escape(d.case)}[/] — jail: {escape(d.actual)}; policy: {escape(d.policy)} "
                f"({d.direction.replace('_', ' ')})",
                soft_wrap=True,
            )
            console.print(f"  charges: {escape('; '.join(d.charges) or '(none)')}", soft_wrap=True)
            console.print(f"  why: {escape(d.explanation)}", soft_wrap=True)
        if report.undecided:
            console.print(f"\n[bold]undecided[/] ({len(report.undecided):,}):")
            for u in report.undecided[:50]:
                console.print(f"  {escape(u.case)} ({escape(u.actual)}): {escape('; '.join(u.facts))}", soft_wrap=True)
            if len(report.undecided) > 50:
                console.print(f"  … {len(report.undecided) - 50:,} more (--json lists all)")
        for note in report.as_dict()["assumptions"]:  # type: ignore[attr-defined]
            console.print(f"[dim]assumption: {note}[/]", soft_wrap=True)

    _emit(report.as_dict(), report.csv_rows(), as_json, as_csv, render)


# ---- compliance -------------------------------------------------------------------------------------------------
@report_app.command("truth-act")
def truth_act(
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    desk: Annotated[
        str | None,
        typer.Option(
            "--desk",
            help="The desk's database (a URL or SQLite path, as detainers serve --db): add the notices served to "
            "the person and the consent forms by answer, from its ledger.",
        ),
    ] = None,
    anyway: AnyJurisdictionOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """California TRUTH Act annual figures: ICE access by hold request, transfer, notification, with demographics;
    with --desk, the notices served to the person and the interview consent forms by the person's answer.

    Refused for a jail outside California (--any-jurisdiction runs it anyway). A figure the export has no column
    for is "not available" (null), never a zero; without --desk the notice figures are null, and without a jail
    export (--store or --mapping) the export's figures are.

    Example:

        detainers report truth-act --store store/ --csv
        detainers report truth-act --store store/ --desk detainers.db --json
    """
    rows: list[dict[str, object]] = []
    if store is not None or mapping is not None or desk is None:
        jail = _jail(store, mapping, charges, bookings)
        _one_state(jail, "ca", "the TRUTH Act report", "California law (Gov. Code §7283.1)", anyway)
        rows = truth_act_annual(jail.bookings, jail.charges)
    if desk is not None:
        notices, since = _desk_notices(desk)
        rows = _with_desk_notices(rows, notices, since)
    else:
        rows = [{**row, **dict.fromkeys(_NOTICE_KEYS)} for row in rows]

    def render() -> None:
        table = Table(
            "year",
            "hold requests",
            "transfers to ICE",
            "notification requests",
            "transfers by sex",
            "transfers by race",
            "notices served",
            "consent forms by answer",
            title="TRUTH Act (Gov. Code §7283.1) annual figures",
        )
        for row in rows:
            export = row["hold_requests"] is not None
            table.add_row(
                str(row["year"]),
                str(row["hold_requests"]) if export else "no export read",
                str(row["transfers_to_ice"]),
                "not in export",
                json.dumps(row["transfers_by_sex"]),
                json.dumps(row["transfers_by_race"]),
                "not read (--desk)" if row["served_notices"] is None else str(row["served_notices"]),
                "not read (--desk)" if row["consents_by_answer"] is None else json.dumps(row["consents_by_answer"]),
            )
        _console().print(table)

    _emit({"report": "truth-act", "years": rows}, rows, as_json, as_csv, render)


_NOTICE_KEYS = ("served_notices", "by_kind", "by_language", "consent_forms", "consents_by_answer")
_EXPORT_KEYS = ("hold_requests", "transfers_to_ice", "notification_requests", "transfers_by_sex", "transfers_by_race")


def _desk_notices(url: str) -> tuple[list[dict[str, object]], int | None]:
    """The TRUTH Act notice figures per year from a desk's ledger (its detainer records, with each booking's zone),
    and the first year the desk recorded a detainer (None if never)."""
    from sqlalchemy.exc import SQLAlchemyError

    from detainers.ledger import database_url, make_engine
    from detainers.service import Desk

    resolved = database_url(url)
    if resolved.startswith("sqlite:///") and not Path(resolved.removeprefix("sqlite:///")).exists():
        raise _fail(f"--desk: no database at {url}")
    engine = make_engine(resolved)
    try:
        desk_ = Desk(engine)
        detainers, _ = desk_.list_detainers(limit=10_000_000)
        bookings_, _ = desk_.list_bookings(limit=10_000_000)
    except SQLAlchemyError as error:
        raise _fail(f"--desk: {url} is not a detainer desk's database ({type(error).__name__})") from None
    finally:
        engine.dispose()
    zones = {b.id: b.timezone for b in bookings_}
    served = [{**item, "zone": zones.get(d.booking_id or "", "UTC")} for d in detainers for item in d.person_notices]
    received = [d.received_at[:4] for d in detainers if d.received_at]
    try:
        return truth_act_notices(served), int(min(received)) if received else None
    except ValueError as error:
        raise _fail(f"--desk: {error}") from None


def _with_desk_notices(
    rows: list[dict[str, object]], notices: list[dict[str, object]], since: int | None
) -> list[dict[str, object]]:
    """The export's rows and the desk's notice figures, joined by year. A figure from a source not read is null; so
    are the notice figures of a year before the desk recorded its first detainer (it was not there to count)."""
    by_year: dict[object, dict[str, object]] = {}
    for row in rows:
        by_year[row["year"]] = {**row, **dict.fromkeys(_NOTICE_KEYS)}
    for item in notices:
        base = by_year.setdefault(item["year"], {"year": item["year"], **dict.fromkeys(_EXPORT_KEYS)})
        base.update({k: item[k] for k in _NOTICE_KEYS})
    for row in by_year.values():  # a year the desk ran and served nothing in: zeros
        year = row["year"]
        if row["served_notices"] is None and since is not None and isinstance(year, int) and year >= since:
            row.update(served_notices=0, by_kind={}, by_language={}, consent_forms=0)
            row["consents_by_answer"] = dict.fromkeys(TRUTH_ACT_ANSWERS, 0)
    return [by_year[y] for y in sorted(by_year, key=lambda y: y if isinstance(y, int) else 0)]


@report_app.command("illinois")
def illinois(
    store: StoreOpt = None,
    mapping: MappingOpt = None,
    charges: ChargesOpt = None,
    bookings: BookingsOpt = None,
    year: Annotated[int | None, typer.Option("--year", help="Calendar year the detainers were received.")] = None,
    anyway: AnyJurisdictionOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Illinois 5 ILCS 805/25 annual report rows (five fields per detainer; no personal information).

    Refused for a jail outside Illinois (--any-jurisdiction runs it anyway).

    Example:

        detainers report illinois --store store/ --year 2023 --csv
    """
    jail = _jail(store, mapping, charges, bookings)
    _one_state(jail, "il", "the 5 ILCS 805/25 report", "Illinois law", anyway)
    if year is not None:
        _year_in_data(jail, year)
    rows: list[dict[str, object]] = illinois_805_25_rows(jail.bookings, jail.charges, year=year)

    def render() -> None:
        console = _console()
        if not rows:
            console.print("no detainers received: certify zero (5 ILCS 805/25)")
            return
        table = Table(
            "#",
            "(A) received",
            "(B) bail posted",
            "(C) released/transferred",
            "(D) at",
            "(E) agency",
            title="5 ILCS 805/25 report rows",
        )
        for row in rows[:200]:
            table.add_row(*[str(v) if v is not None else "—" for v in row.values()])
        console.print(table)
        if len(rows) > 200:
            console.print(f"… {len(rows) - 200:,} more rows (use --csv for all)")

    _emit({"report": "illinois-805-25", "year": year, "rows": rows}, rows, as_json, as_csv, render)


def register(app: typer.Typer) -> None:
    """Add ``detainers report ...`` to app."""
    app.add_typer(report_app, name="report")
