"""Analysis subsets declared in a mapping: keep or drop charge lines and whole bookings (mapping version 2).

Charge filters run first, in file order, on the charge lines; then booking filters, in order, on bookings (a
dropped booking takes its charge lines with it). Every filter's count of removed lines and bookings is printed by
the import and kept in the store's provenance, so a published analysis's exclusions can be checked one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from detainers.ingest._crosswalk import attribute_column
from detainers.ingest._mapping_v2 import Filter, ValueTest
from detainers.ingest._tabular import ROW

__all__ = ["FilterCount", "apply_booking_filters", "apply_charge_filters", "charge_expr", "most_serious", "test_expr"]

#: Columns of the most serious line carried onto the booking (``most_serious.<field>`` in booking filters).
MS_PREFIX = "__ms_"
_TIME_FIELDS = ("booked_at", "released_at", "decided_at")


@dataclass(frozen=True)
class FilterCount:
    applies_to: str  # charges | bookings
    name: str
    action: str  # keep | drop
    lines_removed: int
    bookings_removed: int

    def as_dict(self) -> dict[str, object]:
        return {
            "applies_to": self.applies_to,
            "filter": self.name,
            "action": self.action,
            "charge_lines_removed": self.lines_removed,
            "bookings_removed": self.bookings_removed,
        }

    def text(self) -> str:
        what = f"{self.lines_removed:,} charge line(s)"
        if self.applies_to == "bookings" or self.bookings_removed:
            what = f"{self.bookings_removed:,} booking(s) ({self.lines_removed:,} charge line(s))"
        return f"filter {self.name!r} removed {what}"


def test_expr(value: pl.Expr, test: ValueTest) -> pl.Expr:
    """True where ``value`` (as text) passes ``test``; an empty value passes only ``empty: true``."""
    text = value.cast(pl.String)
    if test.empty is not None:
        is_empty = text.is_null() | (text.str.strip_chars() == "")
        return is_empty if test.empty else ~is_empty
    flags = "" if test.case_sensitive else "(?i)"
    cased = text if test.case_sensitive else text.str.to_uppercase()

    def norm(v: str) -> str:
        return v if test.case_sensitive else v.upper()

    if test.equals is not None:
        expr = cased.str.strip_chars() == norm(test.equals.strip())
    elif test.any_of is not None:
        expr = cased.str.strip_chars().is_in([norm(v.strip()) for v in test.any_of])
    elif test.contains is not None:
        expr = text.str.contains(flags + re.escape(test.contains))
    elif test.starts_with is not None:
        expr = text.str.contains(flags + "^" + re.escape(test.starts_with))
    else:
        assert test.matches is not None
        expr = text.str.contains(flags + test.matches)
    return expr.fill_null(False)


def charge_expr(name: str, columns: list[str]) -> pl.Expr:
    """A charge field, a working column or ``crosswalk.<attribute>`` as an expression (raw text for times)."""
    if name.startswith("crosswalk."):
        attribute = name.removeprefix("crosswalk.")
        if attribute == "statute":
            return pl.col("statute")
        if attribute == "level":
            return pl.col("__cw_level") if "__cw_level" in columns else pl.lit(None, dtype=pl.String)
        column = attribute_column(attribute)
        return pl.col(column) if column in columns else pl.lit(None, dtype=pl.String)
    if name in _TIME_FIELDS and f"__raw_{name}" in columns:
        return pl.col(f"__raw_{name}")
    if name == "level":
        return pl.col("level_raw") if "level_raw" in columns else pl.col("level")
    return pl.col(name) if name in columns else pl.lit(None, dtype=pl.String)


def apply_charge_filters(ch: pl.DataFrame, filters: list[Filter]) -> tuple[pl.DataFrame, list[FilterCount]]:
    counts = []
    before = ch.get_column("booking_id").n_unique() if filters else 0
    for item in filters:
        hit = test_expr(charge_expr(item.test.field, ch.columns), item.test)
        kept = ch.filter(hit if item.keep is not None else ~hit)
        after = kept.get_column("booking_id").n_unique() if kept.height != ch.height else before
        counts.append(
            FilterCount("charges", item.label, "keep" if item.keep else "drop", ch.height - kept.height, before - after)
        )
        ch, before = kept, after
    return ch, counts


def most_serious(ch: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    """Per booking: the line with the highest ``charge_rank`` (ties: the first in the file) and ``fields`` of it."""
    order = [c for c in ("__part", ROW) if c in ch.columns]
    ranked = ch.filter(pl.col("charge_rank").is_not_null()).sort(
        ["booking_id", "charge_rank", *order], descending=[False, True, *([False] * len(order))]
    )
    picks = [charge_expr(name, ch.columns).first().alias(f"{MS_PREFIX}{name}") for name in fields]
    return ranked.group_by("booking_id", maintain_order=True).agg(
        pl.col("charge_rank").first().alias("most_serious_rank"),
        pl.col("charge_text").first().alias("most_serious_charge"),
        pl.col("statute").first().alias("most_serious_statute"),
        pl.col("level").first().alias("most_serious_level"),
        pl.col("charge_attributes").first().alias("most_serious_attributes"),
        *picks,
    )


def _booking_expr(name: str, bk: pl.DataFrame) -> pl.Expr:
    if name.startswith("most_serious."):
        return pl.col(f"{MS_PREFIX}{name.removeprefix('most_serious.')}")
    if name.startswith("any_charge."):
        return pl.col(f"__any_{name.removeprefix('any_charge.')}")
    if name in _TIME_FIELDS and f"__raw_{name}" in bk.columns:
        return pl.col(f"__raw_{name}")
    return pl.col(name) if name in bk.columns else pl.lit(None, dtype=pl.String)


def apply_booking_filters(
    bk: pl.DataFrame, ch: pl.DataFrame, filters: list[Filter]
) -> tuple[pl.DataFrame, pl.DataFrame, list[FilterCount]]:
    """Drop bookings (and their lines); ``any_charge.<field>`` tests the booking's lines, any of which may pass."""
    counts = []
    for item in filters:
        test = item.test
        if test.field.startswith("any_charge."):
            inner = test.model_copy(update={"field": test.field.removeprefix("any_charge.")})
            column = f"__any_{inner.field}"
            hits = ch.group_by("booking_id").agg(
                test_expr(charge_expr(inner.field, ch.columns), inner).any().alias(column)
            )
            frame = bk.join(hits, on="booking_id", how="left").with_columns(pl.col(column).fill_null(False))
            hit = pl.col(column)
        else:
            frame = bk
            hit = test_expr(_booking_expr(test.field, bk), test)
        kept = frame.filter(hit if item.keep is not None else ~hit).select(bk.columns)
        gone = bk.height - kept.height
        lines = ch.filter(pl.col("booking_id").is_in(kept.get_column("booking_id").implode()))
        counts.append(
            FilterCount("bookings", item.label, "keep" if item.keep else "drop", ch.height - lines.height, gone)
        )
        bk, ch = kept, lines
    return bk, ch, counts
