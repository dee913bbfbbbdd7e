"""``detainers replay``: what would policy B have done with the people policy A saw?"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

__all__ = ["register"]


def replay(
    data: Annotated[
        Path | None, typer.Argument(help="Folder with bookings/detainers/convictions/charges Parquet files.")
    ] = None,
    policy: Annotated[
        str,
        typer.Option(
            "--policy", help="Policy A: PACK[@DATE], or 'actual' (alias 'recorded': each case under its own law)."
        ),
    ] = "recorded",
    store: Annotated[
        Path | None, typer.Option("--store", help="Or an imported jail store (detainers import jail): its bookings.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="With --store: decide bookings still held on a charge at this date (default: data end)."
        ),
    ] = None,
    vs: Annotated[
        str, typer.Option("--vs", help="Policy B: PACK[@DATE]; default: each case's own jurisdiction and date.")
    ] = "recorded",
    by: Annotated[
        str, typer.Option("--by", help="Rows per 'facility' (default) or per 'state' (the case's own state) and year.")
    ] = "facility",
    chunk: Annotated[
        int,
        typer.Option(
            "--chunk",
            min=0,
            help="Decide at most about N cases at a time, whole states together (0: all at once). Same answers.",
        ),
    ] = 1_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the per-facility (or state), per-year rows as CSV.")
    ] = False,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Also write the per-facility, per-year rows to this file.")
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", min=0, max=100, help="Show N differing cases with both explanations.")
    ] = 0,
    brief: Annotated[bool, typer.Option("--brief", help="Terminal: only counts of notify, hold and transfer.")] = False,
) -> None:
    """Replay every case in DATA under two policies: counts per outcome, facility (or state) and year, and differences.

    DATA is a folder of case tables (detainers synth); --store replays a county's own imported bookings instead
    (one case per booking with an immigration hold, charges via the crosswalk). Every answer is counted as decided
    on established facts or undecided (it rests on facts the data cannot establish, such as a statute no table
    knows), with the facts named.

    PACK is a jurisdiction with a policy pack (e.g. us/ca/los-angeles/lasd); its layers above apply too.
    PACK@DATE pins every layer to the versions in force on DATE; without @DATE each case uses its own date.
    "actual" (or "recorded") decides each case under its own jurisdiction's law on its own date.
    "hours" is the summed custody beyond release eligibility each policy would authorise.

    Example:
    [cyan]detainers replay --policy us/ca/los-angeles/lasd@2021-01-01 --vs us/tx/travis@2021-01-01 data/syn2021[/cyan]
    [cyan]detainers replay --policy actual --vs us/tx --by state data/national[/cyan]
    """
    from detainers.law import default_packs
    from detainers.replay import (
        DataError,
        PolicyError,
        compare,
        open_data,
        open_store,
        parse_policy,
        render,
        to_csv,
        to_json_dict,
        write_parquet,
    )

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    packs = default_packs()
    excluded: dict[str, int] = {}
    try:
        if by not in ("facility", "state"):
            raise DataError(f"--by {by!r}: give facility or state")
        if (data is None) == (store is None):
            raise DataError("give a DATA folder or --store STORE (one of them)")
        a = parse_policy(policy, packs)
        b = parse_policy(vs, packs)
        if store is not None:
            try:
                pinned = date.fromisoformat(as_of) if as_of else None
            except ValueError:
                raise DataError(f"--as-of {as_of!r}: give a date like 2016-10-31") from None
            loaded = open_store(store, as_of=pinned)
            con, excluded = loaded.con, loaded.excluded
            if loaded.cases == 0:
                raise DataError(f"store {store}: no booking with an immigration hold could become a case")
        else:
            assert data is not None
            con = open_data(data)
    except (PolicyError, DataError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    began = time.perf_counter()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task("opening data", total=None)
        result = compare(
            con,
            a,
            b,
            packs=packs,
            sample=sample,
            step=lambda text: progress.update(task, description=text),
            by="state" if by == "state" else "facility",
            chunk=chunk or None,
        )
    seconds = time.perf_counter() - began
    result.excluded = excluded
    out = Console(highlight=False)
    if as_json:
        doc = to_json_dict(result)
        doc["seconds"] = seconds
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif as_csv:
        typer.echo(to_csv(result), nl=False)
    else:
        measures = ("notify", "hold", "transfer") if brief else ("notify", "hold", "transfer", "hours")
        out.print(render(result, measures=measures))
        out.print(f"[dim]{result.cases:,} cases replayed twice in {seconds:.2f} s[/dim]")
    if parquet is not None:
        write_parquet(result, parquet)
        err.print(f"wrote {parquet}")


def register(app: typer.Typer) -> None:
    """Add ``replay`` to app."""
    app.command("replay")(replay)
