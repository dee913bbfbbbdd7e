"""Small-cell suppression for published counts, done once for every table a reader can ask for.

A count under the threshold (11) is never published, and neither is anything that would let a reader work it out:
tables of the same counts grouped different ways (by status; by status and form; by state; ...) are sums of one
another, so a hidden cell can be recovered by subtracting published cells of *any* of them. :func:`suppress_counts`
therefore takes the finest counts (one per combination of every dimension's categories, zeros included, so that an
empty group is listed and hidden like a small one rather than left out) and decides what to hide in all tables at
once:

* **primary** suppression: every cell under the threshold, in every table;
* **complementary** suppression: for each primary cell a *perturbation* of the finest counts is chosen that adds up
  to zero in every published cell but not in the hidden one (the hypercube method of statistical disclosure
  control: two categories in each varied dimension, signs alternating). Every cell the perturbation touches is
  hidden too. A reader who knows every published number can then add the perturbation to any consistent set of
  finest counts and get another consistent set in which the hidden cell differs, so no hidden cell is determined by
  the published ones. Among the possible perturbations the one that hides the fewest (then the smallest) extra
  cells is taken.

If the grand total is under the threshold, every cell of every table is hidden.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["SUPPRESS_BELOW", "CountTable", "Dimension", "SuppressedCounts", "suppress_counts"]

SUPPRESS_BELOW = 11

# Candidate perturbations examined per primary cell before the cheapest found so far is taken (bounds the work on
# large tables; the result is still safe, only possibly less economical).
_SEARCH_LIMIT = 150

_Spec = tuple[str | None, ...]  # per dimension: the level a table groups it by, or None (summed over)
_Cats = tuple[str | None, ...]  # per dimension: the category of a cell at its table's level
_Key = tuple[_Spec, _Cats]


@dataclass(frozen=True)
class Dimension:
    """One way to group the counts: its finest categories (every one listed, even when its count is zero) and
    any coarser levels, each a mapping from a finest category to its coarser one (e.g. jurisdiction → state)."""

    name: str
    categories: tuple[str, ...]
    coarser: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def levels(self) -> tuple[str, ...]:
        return (self.name, *self.coarser)

    def at(self, level: str, category: str) -> str:
        return category if level == self.name else self.coarser[level][category]

    def categories_at(self, level: str) -> tuple[str, ...]:
        if level == self.name:
            return self.categories
        return tuple(dict.fromkeys(self.coarser[level][c] for c in self.categories))


@dataclass(frozen=True)
class CountTable:
    """One published table: each cell's group and its count (None: suppressed), and the total (None if hidden)."""

    by: tuple[str, ...]
    cells: tuple[tuple[dict[str, str], int | None], ...]
    total: int | None
    threshold: int


@dataclass(frozen=True)
class _Perturbation:
    """Per dimension: ``(plus, None)`` a fixed finest category, or ``(plus, minus)`` two that vary with opposite
    signs."""

    parts: tuple[tuple[str, str | None], ...]


class SuppressedCounts:
    """Every table over ``dimensions`` with one suppression pattern (see :func:`suppress_counts`)."""

    def __init__(self, dimensions: Sequence[Dimension], values: dict[_Key, int], hidden: set[_Key], threshold: int):
        self.dimensions = tuple(dimensions)
        self.values = values
        self.hidden = frozenset(hidden)
        self.threshold = threshold

    def spec(self, by: Sequence[str]) -> _Spec:
        """The table grouped by the named levels (at most one level per dimension), e.g. ``("state", "status")``."""
        chosen: list[str | None] = [None] * len(self.dimensions)
        for level in by:
            found = [i for i, d in enumerate(self.dimensions) if level in d.levels()]
            if not found:
                known = ", ".join(lv for d in self.dimensions for lv in d.levels())
                raise ValueError(f"cannot group by {level!r}; one or more of {known}")
            if chosen[found[0]] is not None:
                raise ValueError(f"group by {chosen[found[0]]!r} or {level!r}, not both")
            chosen[found[0]] = level
        return tuple(chosen)

    def table(self, by: Sequence[str]) -> CountTable:
        """The table grouped by ``by`` (in that order), every combination of categories listed."""
        spec = self.spec(by)
        order = [next(i for i, d in enumerate(self.dimensions) if level in d.levels()) for level in by]
        cells: list[tuple[dict[str, str], int | None]] = []
        for combo in itertools.product(*(self.dimensions[i].categories_at(str(spec[i])) for i in order)):
            cats: list[str | None] = [None] * len(self.dimensions)
            for i, category in zip(order, combo, strict=True):
                cats[i] = category
            key = (spec, tuple(cats))
            group = {str(spec[i]): category for i, category in zip(order, combo, strict=True)}
            cells.append((group, None if key in self.hidden else self.values.get(key, 0)))
        total_key = _total_key(len(self.dimensions))
        total = None if total_key in self.hidden else self.values.get(total_key, 0)
        return CountTable(tuple(by), tuple(cells), total, self.threshold)

    def published(self) -> dict[_Key, int]:
        """Every cell of every table that is shown, with its count (for audits)."""
        return {key: value for key, value in self.values.items() if key not in self.hidden}


def _total_key(n: int) -> _Key:
    return (tuple([None] * n), tuple([None] * n))


def _specs(dimensions: Sequence[Dimension]) -> list[_Spec]:
    """Every table: each dimension absent or at one of its levels (the all-absent spec is the grand total)."""
    return [tuple(s) for s in itertools.product(*((None, *d.levels()) for d in dimensions))]


def suppress_counts(
    counts: Mapping[tuple[str, ...], int],
    dimensions: Sequence[Dimension],
    *,
    threshold: int = SUPPRESS_BELOW,
) -> SuppressedCounts:
    """Primary and complementary suppression across every table over ``dimensions`` at once.

    ``counts`` maps a tuple of finest categories (one per dimension, in order) to its count; combinations not given
    count zero. A category not listed in its dimension is an error (it would be published nowhere).
    """
    n = len(dimensions)
    known = [set(d.categories) for d in dimensions]
    for key, value in counts.items():
        if len(key) != n or any(k not in known[i] for i, k in enumerate(key)):
            raise ValueError(f"count for {key!r} does not name one listed category per dimension")
        if value < 0:
            raise ValueError(f"count for {key!r} is negative")
    specs = _specs(dimensions)
    values: dict[_Key, int] = {}
    for spec in specs:  # every cell of every table, zeros included
        for combo in itertools.product(
            *((d.categories_at(level) if level else (None,)) for d, level in zip(dimensions, spec, strict=True))
        ):
            values[(spec, tuple(combo))] = 0
    for base, value in counts.items():
        if not value:
            continue
        for spec in specs:
            cats = tuple(
                None if level is None else d.at(level, c) for d, level, c in zip(dimensions, spec, base, strict=True)
            )
            values[(spec, cats)] += value
    hidden: set[_Key] = set()
    if values[_total_key(n)] < threshold:
        return SuppressedCounts(dimensions, values, set(values), threshold)
    primary = [cell for cell, value in values.items() if value < threshold]
    hidden.update(primary)
    covered: set[_Key] = set()
    # Coarse tables first: their perturbations also cover many finer cells.
    primary.sort(key=lambda cell: (sum(level is not None for level in cell[0]), repr(cell)))
    for cell in primary:
        if cell in covered:
            continue
        best = _cheapest(cell, dimensions, specs, values, hidden)
        touched = _touched(best, dimensions, specs)
        hidden.update(touched)
        covered.update(touched)
    return SuppressedCounts(dimensions, values, hidden, threshold)


def _touched(p: _Perturbation, dimensions: Sequence[Dimension], specs: Iterable[_Spec]) -> list[_Key]:
    """The cells over which ``p`` does not add up to zero (they must all be hidden)."""
    out: list[_Key] = []
    parts = p.parts
    for spec in specs:
        choices: list[tuple[str | None, ...]] = []
        for d, level, (plus, minus) in zip(dimensions, spec, parts, strict=True):
            if level is None:
                if minus is not None:
                    break  # summed over a varied dimension: +1 and -1 cancel
                choices.append((None,))
                continue
            mapping = d.coarser.get(level)
            a = plus if mapping is None else mapping[plus]
            if minus is None:
                choices.append((a,))
                continue
            b = minus if mapping is None else mapping[minus]
            if a == b:
                break  # both varied categories fall in one coarser group: they cancel there
            choices.append((a, b))
        else:
            out.extend((spec, c) for c in itertools.product(*choices))
    return out


def _ranked(categories: Sequence[str], i: int, rank: Callable[[int, str], tuple[int, int]]) -> list[str]:
    return sorted(categories, key=lambda c: rank(i, c))


def _cheapest(
    key: _Key,
    dimensions: Sequence[Dimension],
    specs: list[_Spec],
    values: Mapping[_Key, int],
    hidden: set[_Key],
) -> _Perturbation:
    """The perturbation protecting cell ``key`` that hides the fewest (then the smallest) cells not hidden yet."""
    spec, cats = key
    in_table = [i for i, level in enumerate(spec) if level is not None]
    # Finest categories a fixed or "plus" part may take in each dimension: inside the cell's group, or anything.
    inside = [
        [c for c in d.categories if level is None or d.at(level, c) == cats[i]]
        for i, (d, level) in enumerate(zip(dimensions, spec, strict=True))
    ]

    def rank(i: int, category: str) -> tuple[int, int]:
        """Prefer categories whose neighbouring cell (in this cell's table, else in the dimension's own table) is
        already hidden or small: a cube through hidden cells costs nothing more."""
        d = dimensions[i]
        if spec[i] is not None:
            probe = list(cats)
            probe[i] = d.at(str(spec[i]), category)
            cell: _Key = (spec, tuple(probe))
        else:
            marginal: list[str | None] = [None] * len(dimensions)
            marginal[i] = d.name
            alone: list[str | None] = [None] * len(dimensions)
            alone[i] = category
            cell = (tuple(marginal), tuple(alone))
        return (0 if cell in hidden else 1, values.get(cell, 0))

    best: tuple[tuple[int, int], _Perturbation] | None = None
    examined = 0
    # The fewer dimensions are left fixed, the fewer tables a perturbation touches: try the full cube first.
    for size in range(len(in_table), 0, -1):
        for varied in itertools.combinations(in_table, size):
            options: list[list[tuple[str, str | None]]] = []
            for i, d in enumerate(dimensions):
                level = spec[i]
                pluses = _ranked(inside[i], i, rank)
                if i in varied and level is not None:
                    minuses = _ranked([c for c in d.categories if d.at(level, c) != cats[i]], i, rank)
                    options.append([(p, m) for p in pluses for m in minuses])
                else:
                    options.append([(c, None) for c in pluses])
            if any(not o for o in options):
                continue  # a varied dimension with nothing to pair with
            reached = [s for s in specs if all(s[i] is not None for i in varied)]  # tables the cube can touch
            for parts in itertools.product(*options):
                candidate = _Perturbation(tuple(parts))
                fresh = [k for k in _touched(candidate, dimensions, reached) if k not in hidden]
                cost = (len(fresh), sum(values[k] for k in fresh))
                if best is None or cost < best[0]:
                    best = (cost, candidate)
                    if cost == (0, 0):
                        return candidate
                examined += 1
                if examined >= _SEARCH_LIMIT:
                    break
            if examined >= _SEARCH_LIMIT and best is not None:
                return best[1]
    if best is None:  # pragma: no cover - a cell of a table whose dimensions all have one category equals the total
        raise ValueError(f"cannot protect cell {key!r}: no dimension of its table has a second category")
    return best[1]
