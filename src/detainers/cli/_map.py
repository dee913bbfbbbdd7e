"""``detainers packs map``: what a county jail with no county pack may or must do, state by state, on a date."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detainers.cli._tables import Table

__all__ = ["map_csv", "register"]

VOLUMES = Path("tests/data/real/trac_detainers_by_state_fy2021_2024q1/state_shares.csv")
_WORD = {"forbid": "no", "allow": "may", "require": "must", "depends": "depends", "unknown": "unknown"}
_CSV_COLUMNS = (
    "state",
    "code",
    "name",
    "hold",
    "hold_typical",
    "hold_depends_on",
    "notify",
    "notify_typical",
    "notify_depends_on",
    "transfer",
    "transfer_typical",
    "transfer_depends_on",
    "pack",
    "version",
    "effective_from",
    "effective_to",
    "evidence",
    "verified_only",
    "state_verified_only",
    "agreements_287g",
    "agreements_287g_mapped",
    "citation",
    "error",
)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def map_csv(data: dict[str, object]) -> str:
    """The ``--json`` form of the map as CSV, one row per state (lists joined by a space)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    states = data["states"]
    assert isinstance(states, list)
    for s in states:
        row: list[object] = [s["state"], s["code"], s["name"]]
        for dim in ("hold", "notify", "transfer"):
            row += [s[dim]["answer"], s[dim]["typical"], " ".join(s[dim]["depends_on"])]
        row += [
            s["pack"] or "",
            s["version"] or "",
            s["effective_from"] or "",
            s["effective_to"] or "",
            " ".join(s["evidence"]),
            _flag(s["verified_only"]),
            _flag(s["state_verified_only"]),
            "" if s["agreements_287g"] is None else s["agreements_287g"],
            "" if s["agreements_287g_mapped"] is None else s["agreements_287g_mapped"],
            s["citation"],
            s["error"] or "",
        ]
        writer.writerow(row)
    return out.getvalue()


def map_command(
    on: Annotated[str, typer.Option("--on", help="The date (YYYY-MM-DD) whose law to map.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the map as JSON (numbers unrounded).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the map as CSV, one row per state.")] = False,
    agreements: Annotated[
        Path | None,
        typer.Option("--agreements", help="A 287(g) registry (agreements import): count agreements in force."),
    ] = None,
) -> None:
    """Map what a county jail with no county pack may or must do on holds, notice and transfer in every state and
    DC on a date: a hold request on the I-247A with an I-200 and no record, and where the answer changes with a
    serious felony record or a judicial warrant, "depends" with what it depends on. Decided by the engine.

    Example: detainers packs map --on 2025-06-01

    Example: detainers packs map --on 2019-01-01 --json --agreements 287g.csv
    """
    from detainers.law import AgreementRegistry, AgreementRegistryError, law_map

    if as_json and as_csv:
        raise _fail("--json and --csv: choose one")
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise _fail(f"--on: {on!r} is not a date (YYYY-MM-DD)") from None
    try:
        registry = AgreementRegistry.from_csv(agreements) if agreements is not None else None
    except AgreementRegistryError as exc:
        raise _fail(str(exc)) from None
    result = law_map(day, agreements=registry)
    data = result.as_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if as_csv:
        typer.echo(map_csv(data), nl=False)
        return
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = max(console.width, 150)  # a pipe or a file: room for whole ids on one line
    console.print(
        f"Law on {day} for a county jail with no county pack: a hold request ({result.form}) with an I-200 and no "
        "record; 'depends' names what changes the answer (a serious felony record, a judicial warrant)."
    )
    table = Table("state", "hold", "notice", "transfer", "depends on", "pack@version", "in force from", "evidence")
    table.add_column("state rules V/V3 only")
    if registry is not None:
        table.add_column("287(g)")
    for column in table.columns:
        column.overflow = "fold"  # ids wrap, never lose characters
    for s in result.states:
        depends = sorted({f for dim in s.dimensions.values() for f in dim.depends_on})
        cells = [
            s.code,
            *(_WORD[s.dimensions[d].answer] for d in ("hold", "notify", "transfer")),
            ", ".join(depends) or "—",
            f"{s.pack}@{s.version}" if s.version else (f"{s.pack} (no version)" if s.pack else "no state pack"),
            s.effective_from.isoformat() if s.effective_from else "—",
            " ".join(s.evidence),
            _flag(s.state_verified_only) or "—",
        ]
        if registry is not None:
            cells.append(str(s.agreements))
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
    errors = [s for s in result.states if s.error]
    for s in errors:
        console.print(f"[yellow]could not decide {s.code}:[/] {escape(s.error or '')}")
    console.print(f"[dim]packs {result.digest}; --json for citations, every case and the timelines[/]")


def coverage_command(
    write: Annotated[bool, typer.Option("--write", help="Write the section into the file.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when the file's section is stale.")] = False,
    path: Annotated[Path, typer.Option("--path", help="The document holding the section.")] = Path(
        "docs/jurisdictions.md"
    ),
    volumes: Annotated[Path, typer.Option("--volumes", help="Per-state share table (states,share_percent,...).")] = (
        VOLUMES
    ),
) -> None:
    """Measure coverage: the share of national detainers whose state (and county) have packs, and whose state
    rules rest only on [V]/[V3], weighted by a published per-state table; the section of docs/jurisdictions.md.

    Example: detainers docs coverage --write
    """
    from detainers.law import default_packs
    from detainers.law._volume_coverage import VolumeTableError, read_volumes, render_coverage, replace_section

    try:
        rows = read_volumes(volumes)
    except VolumeTableError as exc:
        raise _fail(str(exc)) from None
    section = render_coverage(rows, default_packs(), volumes.as_posix())
    if not (write or check):
        typer.echo(section, nl=False)
        return
    try:
        current = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{path}: cannot read: {exc}") from None
    wanted = replace_section(current, section)
    if check:
        if wanted != current:
            Console(stderr=True).print(f"{path} is stale: run `detainers docs coverage --write`")
            raise typer.Exit(1)
        return
    path.write_text(wanted, encoding="utf-8")
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add ``packs map`` beside ``packs list`` and ``packs show``, and ``docs coverage`` beside ``docs policies``."""
    from detainers.cli._docs import docs_app, packs_app

    packs_app.command("map")(map_command)
    docs_app.command("coverage")(coverage_command)
