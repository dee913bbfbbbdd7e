"""De-duplication the Deportation Data Project way (its published de-duplication rule): flag, never delete.

Rows of one person (``person_id``) are sorted by prepare date, then file, sheet and row. A new episode starts when
more than one calendar day separates a row from the previous one (prepare dates are dates, so "within 24 hours"
means the same or the next day). Every row after the first of an episode is ``duplicate_likely``. Rows without an
identifier are never flagged.
"""

from __future__ import annotations

import polars as pl

__all__ = ["flag_duplicates"]


def flag_duplicates(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``duplicate_episode`` (per person, 1-based; null without identifier) and ``duplicate_likely``."""
    order = [
        c for c in ("person_id", "prepare_date", "source_file", "source_sheet", "source_row") if c in frame.columns
    ]
    indexed = frame.with_row_index("__i")
    has_id = pl.col("person_id").is_not_null()
    ranked = (
        indexed.filter(has_id)
        .sort(order, nulls_last=True)
        .with_columns(
            ((pl.col("prepare_date").diff().over("person_id").dt.total_days().fill_null(999)) > 1)
            .cast(pl.Int32)
            .cum_sum()
            .over("person_id")
            .alias("duplicate_episode")
        )
        .with_columns((pl.int_range(pl.len()).over(["person_id", "duplicate_episode"]) > 0).alias("duplicate_likely"))
        .select("__i", "duplicate_episode", "duplicate_likely")
    )
    out = indexed.join(ranked, on="__i", how="left").sort("__i").drop("__i")
    return out.with_columns(pl.col("duplicate_likely").fill_null(False))
