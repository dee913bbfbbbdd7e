"""Charts for reports, drawn with matplotlib's Agg backend (no display needed). PNG or SVG by the file suffix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["bar_chart", "line_chart"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _check(path: Path) -> None:
    if path.suffix.lower() not in {".png", ".svg"}:
        raise ValueError(f"chart file must end in .png or .svg, not {path.suffix or '(nothing)'}")


def bar_chart(path: Path, labels: Sequence[str], values: Sequence[float], *, title: str, ylabel: str) -> Path:
    _check(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar(list(labels), list(values), color="#3b6ea8")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def line_chart(path: Path, x: Sequence[str], series: dict[str, Sequence[float]], *, title: str, ylabel: str) -> Path:
    _check(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for name, values in series.items():
        ax.plot(list(x), list(values), label=name)
    step = max(1, len(x) // 12)
    ax.set_xticks(range(0, len(x), step))
    ax.set_xticklabels([x[i] for i in range(0, len(x), step)], rotation=45, ha="right")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
