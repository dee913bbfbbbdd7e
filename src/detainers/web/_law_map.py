"""The law map page: a tile-grid SVG of the states coloured by what a jail may or must do, and the same data as a
table, for a date chosen with a plain GET form (no script). It shows law, not people: any viewer may open it.

The data is :func:`detainers.law.law_map`, the same as ``detainers packs map --json``. A 287(g) registry is used
when the app has one (``app.state.agreements``) or ``DETAINERS_AGREEMENTS`` names a registry file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from detainers.law import AgreementRegistry, AgreementRegistryError, LawMap, StateLaw, default_packs, law_map
from detainers.web._session import Viewer, optional_viewer
from detainers.web._templates import render

__all__ = ["DIMENSION_NAMES", "TILES", "law_map_router", "map_svg"]

law_map_router = APIRouter(include_in_schema=False)
MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]

DIMENSION_NAMES = {"hold": "Hold", "notify": "Notice", "transfer": "Transfer"}
#: The short text every tile and table cell carries, so colour is never the only signal.
CODES = {"forbid": "NO", "allow": "MAY", "require": "MUST", "depends": "DEP", "unknown": "?"}
WORDS = {
    "forbid": "forbidden",
    "allow": "allowed",
    "require": "required",
    "depends": "depends",
    "unknown": "could not be decided",
}

# The usual US tile-grid layout: (column, row) per postal code, DC beside Maryland.
TILES: dict[str, tuple[int, int]] = {
    "AK": (0, 0), "ME": (11, 0),
    "WI": (6, 1), "VT": (10, 1), "NH": (11, 1),
    "WA": (1, 2), "ID": (2, 2), "MT": (3, 2), "ND": (4, 2), "MN": (5, 2), "IL": (6, 2), "MI": (7, 2),
    "NY": (9, 2), "MA": (10, 2),
    "OR": (1, 3), "NV": (2, 3), "WY": (3, 3), "SD": (4, 3), "IA": (5, 3), "IN": (6, 3), "OH": (7, 3),
    "PA": (8, 3), "NJ": (9, 3), "CT": (10, 3), "RI": (11, 3),
    "CA": (1, 4), "UT": (2, 4), "CO": (3, 4), "NE": (4, 4), "MO": (5, 4), "KY": (6, 4), "WV": (7, 4),
    "VA": (8, 4), "MD": (9, 4), "DE": (10, 4),
    "AZ": (2, 5), "NM": (3, 5), "KS": (4, 5), "AR": (5, 5), "TN": (6, 5), "NC": (7, 5), "SC": (8, 5),
    "DC": (9, 5),
    "OK": (4, 6), "LA": (5, 6), "MS": (6, 6), "AL": (7, 6), "GA": (8, 6),
    "HI": (0, 7), "TX": (4, 7), "FL": (9, 7),
}  # fmt: skip
_TILE, _GAP = 58, 4


@lru_cache(maxsize=8)
def _registry_file(path: str, mtime: float) -> AgreementRegistry:
    return AgreementRegistry.from_csv(Path(path))


def _registry(request: Request) -> tuple[AgreementRegistry | None, str | None]:
    """The app's 287(g) registry, else the file ``DETAINERS_AGREEMENTS`` names; (None, problem) if unreadable."""
    found = getattr(request.app.state, "agreements", None)
    if isinstance(found, AgreementRegistry):
        return found, None
    name = os.environ.get("DETAINERS_AGREEMENTS", "").strip()
    if not name:
        return None, None
    try:
        return _registry_file(name, Path(name).stat().st_mtime), None
    except (OSError, AgreementRegistryError) as exc:
        return None, f"The 287(g) registry could not be read ({exc}); agreements are not counted."


_CACHE: dict[tuple[date, str, int], tuple[AgreementRegistry | None, LawMap]] = {}
_CACHE_SIZE = 16


def _map_for(day: date, registry: AgreementRegistry | None) -> LawMap:
    """The map for a date, kept for the next visitor (the registry is held, so its id is never reused)."""
    packs = default_packs()
    key = (day, packs.digest, id(registry))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is registry:
        return hit[1]
    result = law_map(day, packs=packs, agreements=registry)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (registry, result)
    return result


def _today(request: Request) -> date:
    desk = getattr(request.app.state, "desk", None)
    now: datetime = desk.now() if desk is not None else datetime.now(UTC)
    return now.date()


def map_svg(result: LawMap, dim: str) -> Markup:
    """The tile grid for one dimension: each tile a link to its table row, with its code in text as well."""
    cols = 1 + max(c for c, _ in TILES.values())
    rows = 1 + max(r for _, r in TILES.values())
    width, height = cols * (_TILE + _GAP), rows * (_TILE + _GAP)
    name = DIMENSION_NAMES[dim]
    counts: dict[str, int] = {}
    for s in result.states:
        counts[s.dimensions[dim].answer] = counts.get(s.dimensions[dim].answer, 0) + 1
    summary = ", ".join(f"{WORDS[k]}: {v}" for k, v in sorted(counts.items()))
    parts = [
        f'<svg class="lawmap" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="group" '
        f'aria-labelledby="lawmap-t lawmap-d" data-dim="{dim}">',
        f'<title id="lawmap-t">{escape(name)} on {result.day}, by state</title>',
        f'<desc id="lawmap-d">{escape(summary)}. The table below gives the same answers.</desc>',
    ]
    for s in result.states:
        where = TILES.get(s.code)
        if where is None:
            continue
        col, row = where
        x, y = col * (_TILE + _GAP), row * (_TILE + _GAP)
        answer = s.dimensions[dim].answer
        classes = f"lm-tile lm-{answer}" + ("" if s.version else " lm-federal-only")
        label = f"{s.name}: {name.lower()} {WORDS[answer]}" + ("" if s.version else " (no state pack in force)")
        if s.agreements is not None:
            label += f"; {s.agreements} 287(g) agreements in force"
        parts += [
            f'<a href="#row-{s.code}" class="{classes}" aria-label="{escape(label)}" data-state="{s.code}" '
            f'data-answer="{answer}">',
            f'<rect x="{x}" y="{y}" width="{_TILE}" height="{_TILE}" rx="5"/>',
            f'<text class="lm-code" x="{x + _TILE / 2}" y="{y + 20}" text-anchor="middle">{s.code}</text>',
            f'<text class="lm-answer" x="{x + _TILE / 2}" y="{y + 37}" text-anchor="middle">{CODES[answer]}</text>',
        ]
        if s.agreements is not None:
            parts.append(
                f'<text class="lm-287g" x="{x + _TILE / 2}" y="{y + 52}" text-anchor="middle">'
                f"287(g) {s.agreements}</text>"
            )
        parts.append("</a>")
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class _Row:
    law: StateLaw
    depends: str  # what the answers depend on, in words


def _rows(result: LawMap) -> list[_Row]:
    out = []
    for s in result.states:
        factors = sorted({f for d in s.dimensions.values() for f in d.depends_on})
        out.append(_Row(s, ", ".join(factors)))
    return out


@law_map_router.get("/law-map")
def law_map_page(request: Request, who: MaybeViewer, on: str = "", dim: str = "hold") -> Response:
    today = _today(request)
    status, problems = 200, []
    day = today
    if on:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            status = 400
            problems.append(f"“{on}” is not a date (YYYY-MM-DD); showing {today} instead.")
    if dim not in DIMENSION_NAMES:
        status = 400
        problems.append(f"“{dim}” is not one of hold, notify or transfer; showing hold.")
        dim = "hold"
    registry, trouble = _registry(request)
    if trouble:
        problems.append(trouble)
    result = _map_for(day, registry)
    context: dict[str, Any] = {
        "result": result,
        "rows": _rows(result),
        "dim": dim,
        "dims": DIMENSION_NAMES,
        "svg": map_svg(result, dim),
        "codes": CODES,
        "words": WORDS,
        "problems": problems,
        "registry": registry is not None,
    }
    return render(request, "law_map.html", viewer=who, page="law-map", status=status, **context)
