"""``detainers report concordance``: the jail's actions or decisions against what a policy allowed, both ways."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detainers.analytics import JAIL as JAIL_ACTIONS
from detainers.analytics import (
    concordance,
)
from detainers.cli._report import (
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
    report_app,
)
from detainers.cli._tables import Table

__all__: list[str] = []


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

    def render(console: Console) -> None:
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

    _emit(Shown(report.as_dict(), report.csv_rows(), render), as_json, as_csv)


# ---- compliance -------------------------------------------------------------------------------------------------
