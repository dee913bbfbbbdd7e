"""``detainers decide`` and ``detainers scenarios check``: the engine on scenario files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from detainers.cli._tables import Table
from detainers.clock import format_instant
from detainers.law import (
    AgreementRegistry,
    AgreementRegistryError,
    CaseResult,
    DecisionError,
    PackError,
    PackSet,
    Scenario,
    ScenarioError,
    check_scenario,
    coverage_note,
    decide,
    decision_json,
    default_packs,
    load_scenarios,
)
from detainers.law._decision import Decision

__all__ = ["register"]

scenarios_app = typer.Typer(help="Check scenario files like a test runner.", no_args_is_help=True)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _load(paths: list[Path]) -> list[Scenario]:
    found: list[Scenario] = []
    for path in paths:
        files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            if file.name.startswith("_") or file.name == "expected_failures.yaml":
                continue
            found.extend(load_scenarios(file))
    return found


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _hold_text(decision: Decision) -> str:
    """What a clerk reads: never a "hold until" time when no hold is allowed."""
    zone = decision.timezone
    if decision.hold_until is None:
        return "not yet known (no release eligibility recorded)"
    until = format_instant(decision.hold_until, zone)
    if not decision.hold_allowed:
        return f"no — release at {until}"
    return f"{'required' if decision.hold_required else 'allowed'} until {until}, then release"


def _yaml(value: object) -> str:
    """Values in messages spelled as in the scenario files (true/false/null), not Python's."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _print_decision(console: Console, scenario: Scenario, decision: Decision) -> None:
    console.rule(f"[bold]{escape(decision.case)}")
    chain = " → ".join(
        f"{layer.jurisdiction}@{layer.version}" if layer.pack else f"{layer.jurisdiction} (no pack)"
        for layer in decision.jurisdiction_chain
    )
    console.print(f"[dim]layers:[/] {escape(chain)}")
    note = coverage_note(decision.jurisdiction_chain)
    if note is None:
        console.print("[dim]coverage:[/] complete — every layer of this jurisdiction is encoded")
    else:
        console.print(f"[bold yellow]coverage: incomplete[/] — {escape(note)}")
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("notify ICE", ("required" if decision.notify_required else "yes") if decision.notify else "no")
    table.add_row("hold", _hold_text(decision))
    table.add_row("transfer", decision.transfer.value.replace("_", " "))
    table.add_row("inform the person", "yes" if decision.inform_subject else "no")
    if decision.over_detention_hours:
        flags = ", ".join(str(f) for f in decision.over_detention_flags)
        table.add_row("over-detention", f"{decision.over_detention_hours:.2f} h ({flags})")
    console.print(table)
    console.print("[bold]Why[/]")
    for n, step in enumerate(decision.explanation, 1):
        console.print(f" {n:>2}. [dim]{step.kind}[/] {escape(step.text)}")
    if decision.notices:
        console.print("[bold]Notices owed[/]")
        for notice in decision.notices:
            console.print(f"  • to {notice.to}: {escape(notice.text)} [dim]({notice.rule})[/]")
    console.print("[bold]Rules[/]")
    for rule in decision.rules:
        console.print(f"  • {rule.id} [{rule.evidence}] — {escape(rule.citation)} [dim]{rule.version}[/]")
    for warning in decision.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    for fact in decision.undecided_facts:
        console.print(f"[yellow]undecided:[/] {escape(fact)}")
    for offset in scenario.offsets_used:
        console.print(f"[dim]time without offset: {escape(offset)}[/]")
    console.print(f"[dim]{decision.engine_version}[/]")


def decide_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML, see docs/scenarios.md).", exists=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, one decision per case.")] = False,
    case: Annotated[str | None, typer.Option("--case", help="Only the case with this name.")] = None,
    reading: Annotated[
        list[str] | None,
        typer.Option("--reading", help="ID=OPTION: the option of a declared arguable clause (see packs show)."),
    ] = None,
    agreements: Annotated[
        Path | None, typer.Option("--agreements", help="A 287(g) registry (agreements import) to apply by agency.")
    ] = None,
) -> None:
    """Decide every case of a scenario file and explain each answer with its rules and citations.

    Example: detainers decide tests/scenarios/golden.yaml --case "LA County 2021, Board policy requires
    judicial authority, although state law alone would allow notice and transfer"

    Example: detainers decide cases.yaml --reading ca.7282.5-a6=person-barred
    """
    try:
        scenarios = load_scenarios(file)
        packs = default_packs()
        chosen = _readings(reading, packs)
        registry = AgreementRegistry.from_csv(agreements) if agreements is not None else None
    except (ScenarioError, PackError, AgreementRegistryError) as exc:
        raise _fail(str(exc)) from None
    if case is not None:
        scenarios = [s for s in scenarios if s.case.name == case]
        if not scenarios:
            raise _fail(f"{file}: no case named {case!r}")
    results = []
    console = _console()
    for scenario in scenarios:
        try:
            decision = decide(scenario.case, packs=packs, readings={**chosen, **scenario.readings}, agreements=registry)
        except DecisionError as exc:
            raise _fail(str(exc)) from None
        if as_json:
            data = decision_json(decision)
            data["offsets_used"] = list(scenario.offsets_used)
            results.append(data)
        else:
            _print_decision(console, scenario, decision)
    if as_json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))


def _readings(options: list[str] | None, packs: PackSet) -> dict[str, str]:
    """``ID=OPTION`` pairs, checked against the packs' declared readings."""
    chosen: dict[str, str] = {}
    for item in options or ():
        rid, sep, option = item.partition("=")
        if not sep or not rid.strip() or not option.strip():
            raise PackError(f"--reading {item!r}: expected ID=OPTION, e.g. ca.7282.5-a6=person-barred")
        chosen[rid.strip()] = option.strip()
    packs.choose_readings(chosen)
    return chosen


def _expected_failures(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise _fail(f"{path}: not UTF-8 text ({exc.reason} at byte offset {exc.start})") from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise _fail(f"{path}: expected a mapping of case name to reason (naming the issue that will fix it)")
    return dict(raw)


@scenarios_app.command("check")
def check_command(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders of *.yaml files.")],
    expected_failures: Annotated[
        Path | None,
        typer.Option(
            "--expected-failures", "-x", help="YAML mapping of case name to reason: strict expected failures."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print passing cases too.")] = False,
    reading: Annotated[
        list[str] | None,
        typer.Option("--reading", help="ID=OPTION: the option of a declared arguable clause (a case's own wins)."),
    ] = None,
) -> None:
    """Run every ``expect:`` block like a test runner; exit 1 when a case fails or an expected failure passes.

    Example: detainers scenarios check tests/scenarios -x tests/scenarios/expected_failures.yaml
    """
    try:
        scenarios = _load(paths)
        packs = default_packs()
        chosen = _readings(reading, packs)
    except (ScenarioError, PackError) as exc:
        raise _fail(str(exc)) from None
    xfail = _expected_failures(expected_failures)
    unknown = sorted(set(xfail) - {s.case.name for s in scenarios})
    if unknown:
        raise _fail(f"expected failure names no case: {unknown[0]!r}")
    console = _console()
    counts = {"passed": 0, "failed": 0, "xfailed": 0, "xpassed": 0}
    for scenario in scenarios:
        result: CaseResult = check_scenario(scenario, packs, chosen)
        name = escape(scenario.case.name)
        where = f"{scenario.file}::{scenario.index + 1}"
        if scenario.case.name in xfail:
            if result.passed:
                counts["xpassed"] += 1
                console.print(f"[red]XPASS[/] {where} {name} — expected to fail ({escape(xfail[name])})")
            else:
                counts["xfailed"] += 1
                if verbose:
                    console.print(f"[yellow]XFAIL[/] {where} {name} — {escape(xfail[scenario.case.name])}")
            continue
        if result.passed:
            counts["passed"] += 1
            if verbose:
                console.print(f"[green]PASS[/]  {where} {name}")
            continue
        counts["failed"] += 1
        console.print(f"[red]FAIL[/]  {where} {name}")
        if result.error:
            console.print(f"        error: {escape(result.error)}")
        for m in result.mismatches:
            console.print(f"        {m.key}: expected {escape(_yaml(m.expected))}, got {escape(_yaml(m.actual))}")
    summary = f"{counts['passed']} passed, {counts['failed'] + counts['xpassed']} failed"
    if counts["xfailed"]:
        summary += f", {counts['xfailed']} xfailed"
    if counts["xpassed"]:
        summary += f" ({counts['xpassed']} unexpectedly passed)"
    console.print(summary)
    if counts["failed"] or counts["xpassed"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``decide`` and ``scenarios check``."""
    app.command("decide")(decide_command)
    app.add_typer(scenarios_app, name="scenarios")
