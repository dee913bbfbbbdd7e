"""Charts drawn on the server as SVG markup (no script, no library): bars for counts, a timeline for versions.

Every chart carries a ``<title>`` and ``<desc>`` for screen readers, and the page prints the same numbers in a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

__all__ = ["bar_chart", "version_timeline"]

_ids = itertools.count(1)


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def bar_chart(rows: Sequence[tuple[str, int]], *, title: str, denominator: int, width: int = 560) -> Markup:
    """Horizontal bars, one per row, with the count and share of ``denominator`` written beside each bar."""
    ident = f"chart{next(_ids)}"
    label_w, value_w, bar_h, gap = 220, 100, 22, 8
    plot_w = width - label_w - value_w
    height = max(1, len(rows)) * (bar_h + gap) + gap
    top = max((n for _, n in rows), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(_describe(rows, denominator))}</desc>',
    ]
    for i, (name, count) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = 0 if count <= 0 else max(2.0, plot_w * count / top)
        share = f" ({100 * count / denominator:.1f}%)" if denominator else ""
        shown = name if len(name) <= 30 else name[:29] + "…"
        parts += [
            f'<text class="chart-label" x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">'
            f"{escape(shown)}</text>",
            f'<rect class="chart-bar chart-bar-{i % 6}" x="{label_w}" y="{y}" width="{w:.1f}" '
            f'height="{bar_h}" rx="3"/>',
            f'<text class="chart-value" x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}">'
            f"{_fmt(count)}{escape(share)}</text>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _describe(rows: Sequence[tuple[str, int]], denominator: int) -> str:
    cells = "; ".join(f"{name}: {count}" for name, count in rows)
    return f"{cells}. Denominator {denominator}."


def version_timeline(
    versions: Sequence[tuple[str, date, date | None]], *, title: str, today: date, start: date | None = None
) -> Markup:
    """One bar per version from its first to its last day in force (open-ended versions run to today)."""
    ident = f"tl{next(_ids)}"
    width, label_w, bar_h, gap, axis_h = 640, 150, 18, 6, 22
    first = start or min((v[1] for v in versions), default=today)
    first = date(first.year, 1, 1)
    span = max(1, (today - first).days)
    plot_w = width - label_w - 12
    height = axis_h + max(1, len(versions)) * (bar_h + gap) + gap

    def x(day: date) -> float:
        return label_w + plot_w * max(0, (day - first).days) / span

    parts = [
        f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-t" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}-t">{escape(title)}</title>',
    ]
    step = max(1, (today.year - first.year) // 8 + 1)
    for year in range(first.year, today.year + 1, step):
        xx = x(date(year, 1, 1))
        parts += [
            f'<line class="tl-grid" x1="{xx:.1f}" x2="{xx:.1f}" y1="{axis_h - 4}" y2="{height}"/>',
            f'<text class="tl-year" x="{xx:.1f}" y="{axis_h - 8}" text-anchor="middle">{year}</text>',
        ]
    for i, (name, start_day, end_day) in enumerate(versions):
        y = axis_h + gap + i * (bar_h + gap)
        x0, x1 = x(start_day), x(end_day or today)
        current = end_day is None or end_day >= today
        shown = name if len(name) <= 20 else name[:19] + "…"
        parts += [
            f'<text class="tl-label" x="{label_w - 8}" y="{y + bar_h * 0.72:.1f}" text-anchor="end">'
            f"{escape(shown)}</text>",
            f'<rect class="tl-bar{" tl-current" if current else ""}" x="{x0:.1f}" y="{y}" '
            f'width="{max(3.0, x1 - x0):.1f}" height="{bar_h}" rx="3"><title>{escape(name)}: {start_day} – '
            f"{end_day or 'in force'}</title></rect>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
