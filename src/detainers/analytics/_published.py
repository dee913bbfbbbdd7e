"""Checks of our counts against published tables: NPR's facility x lift-reason table, the Statesman's monthly table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from detainers.analytics._monthly import MonthRow

__all__ = ["CellCheck", "compare_facility_cells", "compare_monthly_table"]


@dataclass(frozen=True)
class CellCheck:
    key: tuple[str, ...]
    ours: int | None  # None: not available in our data
    published: int | None

    @property
    def matches(self) -> bool:
        return self.published == self.ours


def compare_facility_cells(detainers: pl.DataFrame, published: list[Path]) -> list[CellCheck]:
    """Group ``detainers`` by (facility, lift reason) and look each cell up in NPR's ``*_detentations_percentages``
    tables (columns ``det_facility, lift_reason, count``; empty lift reason = none recorded)."""
    ours = (
        detainers.with_columns(pl.col("facility").fill_null(""), pl.col("lift_reason").fill_null(""))
        .group_by("facility", "lift_reason")
        .len()
    )
    table = pl.concat(
        [pl.read_csv(path, infer_schema_length=0).select("det_facility", "lift_reason", "count") for path in published]
    ).with_columns(
        pl.col("det_facility").fill_null(""), pl.col("lift_reason").fill_null(""), pl.col("count").cast(pl.Int64)
    )
    joined = ours.join(
        table, left_on=["facility", "lift_reason"], right_on=["det_facility", "lift_reason"], how="left"
    ).sort("facility", "lift_reason")
    return [CellCheck((f, r), int(n), None if c is None else int(c)) for f, r, n, c in joined.iter_rows()]


def compare_monthly_table(rows: list[MonthRow], published: Path) -> dict[str, list[CellCheck]]:
    """Compare monthly rows with the Statesman's ``summary_table.csv`` (month, total, felony, violent), per column."""
    table = pl.read_csv(published, infer_schema_length=0)
    ours = {row.month: row for row in rows}
    out: dict[str, list[CellCheck]] = {"total": [], "felony": [], "violent": []}
    for month, total, felony, violent in table.iter_rows():
        row = ours.get(month)
        for name, value, mine in (
            ("total", total, row.bookings if row else 0),
            ("felony", felony, row.with_felony if row else 0),
            ("violent", violent, row.with_violent if row else 0),
        ):
            out[name].append(CellCheck((month,), mine, int(value) if value else 0))
    return out
