"""``detainers agreements``: read ICE's published 287(g) lists into a registry, and look an agency up in it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detainers.cli._tables import Table

__all__ = ["register"]

agreements_app = typer.Typer(
    name="agreements",
    help="287(g) agreements as data: import ICE's participating-agency lists; look up a jurisdiction.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


@agreements_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="ICE list snapshots (CSV or XLSX, ICE's column layout).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the registry (CSV).")],
    as_of: Annotated[
        list[str] | None,
        typer.Option("--as-of", help="Publication date of each file, in order (default: from ICE's file name)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--map", help="CSV state,agency,jurisdiction: agencies to map by hand.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Read one or more snapshots of ICE's 287(g) list into a registry the desk, decide and replay can use.

    Example: detainers agreements import participatingAgencies05162025am.xlsx --out 287g.csv
    """
    from detainers.ingest import AgreementImportError, read_agreement_lists

    for path in [*files, *([mapping] if mapping is not None else [])]:
        if not path.is_file():
            raise _fail(f"{path}: no such file")
    if not out.parent.is_dir():
        raise _fail(f"--out {out}: directory {out.parent} does not exist")
    try:
        dates = [date.fromisoformat(d) for d in as_of or ()]
    except ValueError as exc:
        raise _fail(f"--as-of: {exc}") from None
    try:
        result = read_agreement_lists(files, as_of=dates, mapping=mapping)
    except AgreementImportError as exc:
        raise _fail(str(exc)) from None
    registry = result.registry
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(registry.to_csv(), encoding="utf-8")
    tmp.replace(out)  # a failed import leaves no half-written registry
    mapped = len(registry) - len(registry.unmapped)
    ended = sum(1 for r in registry if r.ended is not None)
    counts = {
        "snapshots": [{"file": str(p), "as_of": d.isoformat()} for p, d in result.snapshots],
        "agreements": len(registry),
        "mapped": mapped,
        "unmapped_by_type": result.unmapped,
        "ended": ended,
        "rejected_rows": result.rejected,
        "out": str(out),
    }
    if as_json:
        typer.echo(json.dumps(counts, indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"{len(registry)} agreements from {len(result.snapshots)} snapshot(s): {mapped} mapped to a "
        f"jurisdiction, {len(registry) - mapped} not mapped, {ended} no longer listed"
    )
    for kind, n in sorted(result.unmapped.items()):
        console.print(f"  not mapped: {n} of type {escape(kind)} (give them with --map if they run a jail)")
    for line in result.rejected:
        console.print(f"[yellow]rejected:[/] {escape(line)}")
    console.print(f"wrote {escape(str(out))}")


@agreements_app.command("show")
def show_command(
    jurisdiction: Annotated[str, typer.Argument(help="Jurisdiction id, e.g. us/fl/duval.")],
    registry_file: Annotated[Path, typer.Option("--registry", help="A registry written by agreements import.")],
    on: Annotated[str | None, typer.Option("--on", help="Only agreements in force on this date.")] = None,
) -> None:
    """List the 287(g) agreements the registry gives a jurisdiction.

    Example: detainers agreements show us/fl/duval --registry 287g.csv --on 2025-06-01
    """
    from detainers.law import AgreementRegistry, AgreementRegistryError, check_jurisdiction

    try:
        path = check_jurisdiction(jurisdiction)
        registry = AgreementRegistry.from_csv(registry_file)
        day = date.fromisoformat(on) if on else None
    except (ValueError, AgreementRegistryError) as exc:
        raise _fail(str(exc)) from None
    found = [r for r in registry if r.jurisdiction == path and (day is None or r.in_force(day))]
    table = Table("agency", "model", "signed", "last listed", "source")
    for r in found:
        table.add_row(r.agency, r.model.value, r.signed.isoformat(), r.ended.isoformat() if r.ended else "—", r.source)
    Console(highlight=False, soft_wrap=True).print(table if found else f"no agreement for {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(agreements_app)
