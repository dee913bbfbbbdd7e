"""``detainers docs`` and ``detainers packs``: generated documentation and the policy browser on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detainers.cli._tables import Table
from detainers.law import PackError, default_packs
from detainers.law._policies_doc import render_policies

__all__ = ["register"]

docs_app = typer.Typer(help="Generate the documentation that is built from data.", no_args_is_help=True)
packs_app = typer.Typer(
    help="Browse the policy packs: jurisdictions, versions, rules and citations.", no_args_is_help=True
)


@docs_app.command("policies")
def policies_command(
    write: Annotated[bool, typer.Option("--write", help="Write docs/policies.md instead of printing it.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when docs/policies.md is stale.")] = False,
    path: Annotated[Path, typer.Option("--path", help="Where policies.md lives.")] = Path("docs/policies.md"),
) -> None:
    """Render docs/policies.md from the packs.

    Example: detainers docs policies --write
    """
    try:
        text = render_policies(default_packs())
    except PackError as exc:
        Console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            Console(stderr=True).print(f"{path} is stale: run `detainers docs policies --write`")
            raise typer.Exit(1)
        return
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {path}")
        return
    typer.echo(text, nl=False)


@packs_app.command("list")
def list_command() -> None:
    """List every pack with its versions and the dates they were in force.

    Example: detainers packs list
    """
    table = Table("pack", "level", "version", "in force", "rules")
    for pack in default_packs():
        for v in pack.versions:
            table.add_row(
                pack.pack,
                pack.level,
                v.version,
                f"{v.effective_from} – {v.effective_to or 'present'}",
                str(len(v.rules)),
            )
    Console().print(table)


@packs_app.command("show")
def show_command(
    pack_id: Annotated[str, typer.Argument(help="Jurisdiction path, optionally @DATE or @VERSION.")],
) -> None:
    """Show one pack's rules with their citations and evidence tags.

    Example: detainers packs show us/ca@2019-06-15
    """
    from datetime import date

    name, _, at = pack_id.partition("@")
    pack = default_packs().get(name)
    if pack is None:
        Console(stderr=True).print(f"[red]error:[/] no pack {name!r}; see `detainers packs list`")
        raise typer.Exit(2)
    versions = list(pack.versions)
    if at:
        try:
            chosen = pack.version_on(date.fromisoformat(at))
            versions = [chosen] if chosen else []
        except ValueError:
            versions = [v for v in pack.versions if v.version == at]
        if not versions:
            Console(stderr=True).print(f"[red]error:[/] {pack.pack} has no version for {at!r}")
            raise typer.Exit(2)
    console = Console(highlight=False)
    for v in versions:
        console.rule(f"{pack.pack}@{v.version} ({v.effective_from} – {v.effective_to or 'present'})")
        console.print(escape(v.title))
        for rule in v.rules:
            console.print(f"• [bold]{rule.id}[/] [{rule.evidence}] {escape(rule.title)}")
            console.print(f"    when {escape(rule.condition.describe())}")
            console.print(
                f"    then {escape(rule.sets.describe())}"
                + (f"; otherwise {escape(rule.otherwise.describe())}" if rule.otherwise else "")
            )
            console.print(f"    [dim]{escape(rule.citation.text())} {rule.citation.url or ''}[/]")


def register(app: typer.Typer) -> None:
    """Add ``docs`` and ``packs``."""
    app.add_typer(docs_app, name="docs")
    app.add_typer(packs_app, name="packs")
