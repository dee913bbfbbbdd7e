"""``detainers synth``: a seeded synthetic jail population (Parquet) calibrated to published aggregates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["register"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date like 2021-01-01, got {text!r}") from None


def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write (created if missing).")],
    scale: Annotated[int, typer.Option("--scale", min=1, max=50_000_000, help="Number of bookings.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 0,
    start: Annotated[str, typer.Option("--from", help="First booking day (ISO date).")] = "2012-10-01",
    end: Annotated[str, typer.Option("--to", help="Last booking day (ISO date, inclusive).")] = "2025-09-30",
    detainer_share: Annotated[
        float | None,
        typer.Option("--detainer-share", min=0.0, max=1.0, help="Share of bookings with a detainer (default: per FY)."),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="calibrated (default) or coverage (rare facts made common, for tests).")
    ] = "calibrated",
    national: Annotated[
        bool,
        typer.Option(
            "--national",
            help="Every state and DC in proportion to the cited per-state detainer shares (TRAC 748; docs/synth.md).",
        ),
    ] = False,
    volumes: Annotated[
        Path | None,
        typer.Option("--volumes", help="With --national: another per-state share table (states,share_percent,...)."),
    ] = None,
) -> None:
    """Write a [bold]synthetic[/bold] population: facilities, bookings, charges, prior convictions, detainers.

    Every file says it is synthetic (Parquet metadata [cyan]detainers.synthetic=true[/cyan] and a README);
    people have no names, only ids like SYN-00000001. Calibration sources: docs/synth.md.

    --national spreads the bookings over every state and DC in proportion to the published per-state shares of
    ICE detainers shipped in tests/data/real (TRAC report 748, FY2021-FY2024Q1), each case under its own
    state's (or county's) jurisdiction.

    Example: [cyan]detainers synth --scale 100000 --seed 7 --from 2021-01-01 --to 2021-12-31 --out data/syn2021[/cyan]
    Example: [cyan]detainers synth --national --scale 1000000 --from 2023-01-01 --to 2023-12-31 --out data/us[/cyan]
    """
    from detainers.law import VolumeTableError
    from detainers.synth import SynthConfig, state_weights, write_population

    if profile not in ("calibrated", "coverage"):
        raise typer.BadParameter("--profile must be calibrated or coverage")
    if volumes is not None and not national:
        raise typer.BadParameter("--volumes needs --national")
    if national:
        try:
            weights = state_weights(volumes)
        except VolumeTableError as exc:
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    config = SynthConfig(
        scale=scale,
        seed=seed,
        start=_day(start),
        end=_day(end),
        detainer_share=detainer_share,
        profile=profile,  # type: ignore[arg-type]
        national=national,
        volumes=volumes,
    )
    console = Console(stderr=True)
    began = datetime.now()
    with Progress(
        TextColumn("[bold]synth[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=scale < 200_000,
    ) as progress:
        task = progress.add_task("bookings", total=scale)
        summary = write_population(out, config, progress=lambda done: progress.update(task, completed=done))
    seconds = (datetime.now() - began).total_seconds()
    rows = ", ".join(f"{name} {n:,}" for name, n in summary.rows.items())
    Console(highlight=False).print(f"wrote SYNTHETIC data to {out} in {seconds:.1f} s: {rows}")
    if national:
        Console(highlight=False, soft_wrap=True).print(f"national: bookings spread by {weights.describe()}")


def register(app: typer.Typer) -> None:
    """Add ``synth`` to app."""
    app.command("synth")(synth)
