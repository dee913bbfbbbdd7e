"""``detainers report truth-act`` and ``report illinois``: the figures state laws require, from the data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detainers.analytics import (
    TRUTH_ACT_ANSWERS,
    illinois_805_25_rows,
    truth_act_annual,
    truth_act_notices,
)
from detainers.cli._report import (
    AnyJurisdictionOpt,
    BookingsOpt,
    ChargesOpt,
    CsvOpt,
    JsonOpt,
    MappingOpt,
    Shown,
    StoreOpt,
    _emit,
    _fail,
    _jail,
    _one_state,
    _year_in_data,
    report_app,
)
from detainers.cli._tables import Table

__all__: list[str] = []


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

    def render(console: Console) -> None:
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
        console.print(table)

    _emit(Shown({"report": "truth-act", "years": rows}, rows, render), as_json, as_csv)


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

    def render(console: Console) -> None:
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

    _emit(Shown({"report": "illinois-805-25", "year": year, "rows": rows}, rows, render), as_json, as_csv)
