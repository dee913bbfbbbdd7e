"""Statute tags for the bulk path: each distinct statute is classified once per period, with ``classify`` itself.

The offense tables change only on a few dates (a list's effective date, a repeal). Between two such dates the
answer of :func:`~detainers.law.offenses.classify` for a (statute, level, explicit tags, state) key cannot change,
so the bulk path calls it once per key and period and joins the result on the decision date. That keeps the
matching rules (subdivisions, level limits, conditional entries, the CA DOJ dictionary) in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import pyarrow as pa

from detainers.domain import Level
from detainers.law.offenses import OffenseTables, load_offense_tables

__all__ = ["SEPARATOR", "breakpoints", "classification_table"]

SEPARATOR = "\x1f"  # joins a row's explicit tags into one key (unit separator: never in a tag)
_FIRST = date(1, 1, 1)
_LAST = date(9999, 12, 31)


def breakpoints(tables: OffenseTables) -> list[date]:
    """Days on which some entry starts or stops being in force."""
    days: set[date] = set()
    for row in tables.rows():
        if row.effective_from is not None:
            days.add(row.effective_from)
        if row.effective_to is not None and row.effective_to < _LAST:
            days.add(row.effective_to + timedelta(days=1))
    for table in tables:
        if table.effective_from is not None:
            days.add(table.effective_from)
        if table.effective_to is not None and table.effective_to < _LAST:
            days.add(table.effective_to + timedelta(days=1))
    return sorted(days)


def _has(tag: str, tags: frozenset[str], possible: frozenset[str], known: bool) -> int:
    if tag in tags:
        return 2
    return 1 if (not known or tag in possible) else 0


def classification_table(
    keys: Iterable[tuple[str, str, str, str]],
    tag_columns: Mapping[str, str],
    tables: OffenseTables | None = None,
    *,
    between: tuple[date, date] | None = None,
) -> pa.Table:
    """One row per (statute, level, tags key, state) and period ``[day_from, day_to)``, with ``h_i`` codes.

    ``h_i`` is 2 when the row has tag ``i``, 1 when it may have it (unknown statute, or a tag that needs a fact
    the statute cannot show), else 0 — exactly ``_tags_tri``'s ``has``.

    ``between`` (first and last day, inclusive) keeps only the periods that contain one of those days: rows are
    joined on the decision date, so a period no decision date falls in is never used and need not be classified.
    """
    tables = tables or load_offense_tables()
    cuts = breakpoints(tables)
    periods = list(zip([_FIRST, *cuts], [*cuts, _LAST], strict=True))
    if between is not None:
        lo, hi = between
        periods = [(start, end) for start, end in periods if end > lo and start <= hi]
    columns: dict[str, list[object]] = {
        "statute": [],
        "level": [],
        "tags_key": [],
        "state": [],
        "day_from": [],
        "day_to": [],
        "known": [],
    }
    for column in tag_columns.values():
        columns[column] = []
    for statute, level, tags_key, state in keys:
        extra = tuple(t for t in tags_key.split(SEPARATOR) if t)
        jurisdiction = f"us/{state.lower()}" if state else "zz"
        for start, end in periods:
            found = tables.classify(statute, level=Level(level), jurisdiction=jurisdiction, on=start, extra_tags=extra)
            tags = frozenset(found.tags)
            possible: set[str] = set()
            for m in (*found.conditional, *found.needs_level):
                possible |= m.tags
            known = found.known or bool(extra)
            columns["statute"].append(statute)
            columns["level"].append(level)
            columns["tags_key"].append(tags_key)
            columns["state"].append(state)
            columns["day_from"].append(start)
            columns["day_to"].append(end)
            columns["known"].append(known)
            for tag, column in tag_columns.items():
                columns[column].append(_has(tag, tags, frozenset(possible), known))
    schema = pa.schema(
        [
            ("statute", pa.string()),
            ("level", pa.string()),
            ("tags_key", pa.string()),
            ("state", pa.string()),
            ("day_from", pa.date32()),
            ("day_to", pa.date32()),
            ("known", pa.bool_()),
            *[(column, pa.int8()) for column in tag_columns.values()],
        ]
    )
    return pa.table(columns, schema=schema)
