"""``detainers report``: numbers from imported data, each rate with its numerator, denominator and their names."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Protocol

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape

from detainers.cli._ingest import charge_parts
from detainers.ingest import MappingError, Store, TableReadError, load_jail, load_mapping

__all__ = ["Report", "Shown", "register"]

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


class Report(Protocol):
    """What every ``detainers report`` command produces: its data (``--json``), its rows (``--csv``) and how it reads
    on the terminal. One generic tail serves every command: :func:`_emit`."""

    def as_dict(self) -> dict[str, object]: ...

    def csv_rows(self) -> list[dict[str, object]]: ...

    def render(self, console: Console) -> None: ...


@dataclass(frozen=True)
class Shown:
    """A report as a command shows it: the analysis' data and rows, with the command's own terminal rendering."""

    data: dict[str, object]
    rows: list[dict[str, object]]
    show: Callable[[Console], None]

    def as_dict(self) -> dict[str, object]:
        return self.data

    def csv_rows(self) -> list[dict[str, object]]:
        return self.rows

    def render(self, console: Console) -> None:
        self.show(console)


def _emit(report: Report, as_json: bool, as_csv: bool) -> None:
    """``--json``: the data, unrounded; ``--csv``: the rows (nested values as JSON); else the rendering."""
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, default=str))
    elif as_csv:
        rows = report.csv_rows()
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
        report.render(_console())


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


def register(app: typer.Typer) -> None:
    """Add ``detainers report ...`` to app (the commands live in one module per area; importing adds them)."""
    from detainers.cli import _report_compliance, _report_concordance, _report_people  # noqa: F401

    app.add_typer(report_app, name="report")
