"""``detainers notices``: the notices and consent forms a decision owes the person, rendered to PDF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detainers.law import DecisionError, PackError, ScenarioError, decide, default_packs, load_scenarios
from detainers.notices import (
    LANGUAGE_NAMES,
    NoticeError,
    Subject,
    load_catalog,
    notices_owed,
    render_notice,
)

__all__ = ["register"]

notices_app = typer.Typer(
    help="Notices and consent forms owed to the person (not the notices to ICE), rendered to PDF.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60] or "case"


@notices_app.command("render")
def render_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML, see docs/scenarios.md).")],
    language: Annotated[
        str, typer.Option("--language", "-l", help=f"Language tag: {', '.join(LANGUAGE_NAMES)}.")
    ] = "en",
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the PDFs (created if missing).")] = Path(
        "notices"
    ),
    case: Annotated[str | None, typer.Option("--case", help="Only the case with this name.")] = None,
    translations: Annotated[
        Path | None,
        typer.Option("--translations", help="A county's certified translation files (same layout; they win)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Decide each case of a scenario file, then render every notice it owes the person, in LANGUAGE, to OUT.

    A notice without a translation in LANGUAGE is rendered in English and the output says so. A case without
    ``person.name`` gets a plainly synthetic placeholder name. Each PDF's sha256 and the hash and review status of
    every translation file used are printed (record them when the notice is served).

    Example: detainers notices render tests/scenarios/own/california.yaml --language vi --out /tmp/notices

    Example: detainers notices render cases.yaml --case "A" --language es --translations county/translations
    """
    try:
        scenarios = load_scenarios(file)
        packs = default_packs()
        catalog = load_catalog(translations)
    except (ScenarioError, PackError, NoticeError) as exc:
        raise _fail(str(exc)) from None
    if language not in LANGUAGE_NAMES and not any(language in catalog.languages(t) for t in catalog.templates()):
        raise _fail(f"--language: no template has {language!r} (shipped: {', '.join(LANGUAGE_NAMES)})")
    if case is not None:
        scenarios = [s for s in scenarios if s.case.name == case]
        if not scenarios:
            raise _fail(f"{file}: no case named {case!r}")
    console = Console(highlight=False, soft_wrap=True)
    written: list[dict[str, object]] = []
    out.mkdir(parents=True, exist_ok=True)
    for scenario in scenarios:
        try:
            decision = decide(scenario.case, packs=packs, readings=scenario.readings)
            owed = notices_owed(decision, packs)
        except (DecisionError, NoticeError) as exc:
            raise _fail(f"{file}: case {scenario.case.name!r}: {exc}") from None
        if not as_json:
            console.rule(f"[bold]{escape(scenario.case.name)}")
            if not owed:
                console.print("no notice is owed to the person")
        subject = Subject(name=scenario.person_name, booking=scenario.case.person.ids.booking_person_id)
        for n, item in enumerate(owed, 1):
            used = language if language in catalog.languages(item.template) else None
            if not catalog.has(item.template):
                note = f"{item.template}: no template yet — not rendered"
                written.append({"case": scenario.case.name, "template": item.template, "skipped": note})
                if not as_json:
                    console.print(f"[yellow]warning:[/] {escape(note)}")
                continue
            try:
                rendered = render_notice(item, scenario.case, decision, catalog, used or "en", subject=subject)
            except NoticeError as exc:
                raise _fail(f"{file}: case {scenario.case.name!r}: {exc}") from None
            name = f"{_slug(scenario.case.name)}-{n}-{item.spec.kind}-{item.spec.to}-{rendered.language}.pdf"
            (out / name).write_bytes(rendered.pdf)
            row: dict[str, object] = {
                "case": scenario.case.name,
                "file": str(out / name),
                "template": rendered.template,
                "rule": rendered.rule,
                "recipient": rendered.recipient,
                "deadline": item.spec.deadline.value if item.spec.deadline else None,
                "language": rendered.language,
                "requested_language": language,
                "sha256": rendered.sha256,
                "reviewed": rendered.reviewed,
                "translations": [t.model_dump(mode="json") for t in rendered.translations],
            }
            written.append(row)
            if as_json:
                continue
            console.print(f"[bold]{escape(name)}[/] — {escape(item.notice.text)}")
            console.print(f"  sha256 {rendered.sha256}; rule {rendered.rule}; {escape(rendered.citation)}")
            if used is None:
                console.print(f"  [yellow]no {escape(language)} translation of {item.template}: rendered in English[/]")
            for t in rendered.translations:
                state = "reviewed" if t.status == "reviewed" else "drafted — not reviewed by a certified translator"
                console.print(f"  [dim]{escape(t.path)} ({t.source}) sha256 {t.sha256[:12]} — {state}[/]")
    if as_json:
        typer.echo(json.dumps(written, indent=2, ensure_ascii=False))


@notices_app.command("templates")
def templates_command(
    translations: Annotated[
        Path | None, typer.Option("--translations", help="A county's translation files, shown with the shipped.")
    ] = None,
) -> None:
    """List every notice template, its languages, and each translation's review status and source.

    Example: detainers notices templates --translations county/translations
    """
    try:
        catalog = load_catalog(translations)
    except NoticeError as exc:
        raise _fail(str(exc)) from None
    console = Console(highlight=False, soft_wrap=True)
    for template in catalog.templates():
        console.print(f"[bold]{template}[/]")
        for language in catalog.languages(template):
            t = catalog.translation(template, language)
            state = "reviewed" if t.reviewed else "drafted — not reviewed by a certified translator"
            sources = ", ".join(sorted({u.source for u in t.used}))
            console.print(f"  {language:8} {state} ({sources})")


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")
