"""Held longer because of the detainer (UWCHR Pierce County method, github.com/UWCHR/ice-detainers-pierce).

Per booking with an immigration hold line: the booking was *held longer because of the detainer* when the hold
line's release is later than the latest release of every other charge line. The extra time is the gap between the
two. Bookings whose only line is the hold cannot be judged and are counted apart. Lines closed as entry errors or
as not-a-release (case merged, charge refiled) are not "other charges" for this test.

Length of stay is booking release minus booking time (days; hours/24 when the export has clock times), compared
between bookings with and without a hold: mean and median.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from detainers.analytics._rates import Rate

__all__ = ["HeldLongerReport", "held_longer"]

_NOT_OTHER = ("error", "not_a_release")


@dataclass
class HeldLongerReport:
    bookings_with_hold: int
    judgeable: int
    held_longer: int
    hold_only: int
    open_hold: int
    extra_days_mean: float | None
    extra_days_median: float | None
    length_of_stay: dict[str, dict[str, float | int | None]]
    per_booking: pl.DataFrame

    def rate(self) -> Rate:
        return Rate(self.held_longer, self.judgeable, "of bookings with a hold and other charges")

    def as_dict(self) -> dict[str, object]:
        return {
            "report": "held-longer",
            "bookings_with_hold": self.bookings_with_hold,
            "judgeable": self.judgeable,
            "held_longer": self.held_longer,
            "held_longer_rate": self.rate().as_dict(),
            "hold_only_bookings": self.hold_only,
            "hold_not_yet_released": self.open_hold,
            "extra_days_mean": self.extra_days_mean,
            "extra_days_median": self.extra_days_median,
            "length_of_stay_days": self.length_of_stay,
            "method": "hold line released later than the latest release of every other charge line (UWCHR)",
        }


def _days(end: str, start: str, end_on: str, start_on: str) -> pl.Expr:
    exact = (pl.col(end) - pl.col(start)).dt.total_seconds() / 86400.0
    by_date = (pl.col(end_on) - pl.col(start_on)).dt.total_days().cast(pl.Float64)
    return pl.when(pl.col(end).is_not_null() & pl.col(start).is_not_null()).then(exact).otherwise(by_date)


def held_longer(bookings: pl.DataFrame, charges: pl.DataFrame) -> HeldLongerReport:
    lines = charges.filter(~pl.col("release_reason").fill_null("").is_in(list(_NOT_OTHER)))
    is_hold = pl.col("hold") == "immigration"
    per = lines.group_by("booking_id").agg(
        is_hold.any().alias("has_hold"),
        pl.col("released_on").filter(is_hold).max().alias("hold_on"),
        pl.col("released_at").filter(is_hold).max().alias("hold_at"),
        (is_hold & pl.col("released_on").is_null()).any().alias("hold_open"),
        (~is_hold.fill_null(False)).sum().alias("others"),
        pl.col("released_on").filter(~is_hold.fill_null(False)).max().alias("other_on"),
        pl.col("released_at").filter(~is_hold.fill_null(False)).max().alias("other_at"),
    )
    holds = per.filter(pl.col("has_hold"))
    holds = holds.with_columns(
        pl.when(pl.col("others") == 0)
        .then(pl.lit("hold_only"))
        .when(pl.col("hold_open") | pl.col("other_on").is_null())
        .then(pl.lit("open"))
        .when(
            pl.when(pl.col("hold_at").is_not_null() & pl.col("other_at").is_not_null())
            .then(pl.col("hold_at") > pl.col("other_at"))
            .otherwise(pl.col("hold_on") > pl.col("other_on"))
        )
        .then(pl.lit("held_longer"))
        .otherwise(pl.lit("not_longer"))
        .alias("verdict"),
        _days("hold_at", "other_at", "hold_on", "other_on").alias("extra_days"),
    )
    longer = holds.filter(pl.col("verdict") == "held_longer")
    judgeable = holds.filter(pl.col("verdict").is_in(["held_longer", "not_longer"])).height
    stays = bookings.with_columns(_days("released_at", "booked_at", "released_on", "booked_on").alias("los")).join(
        per.select("booking_id", "has_hold"), on="booking_id", how="left"
    )
    los: dict[str, dict[str, float | int | None]] = {}
    for label, flag in (("with_hold", True), ("without_hold", False)):
        part = stays.filter((pl.col("has_hold").fill_null(False) == flag) & pl.col("los").is_not_null())["los"]
        los[label] = {
            "bookings": part.len(),
            "mean": round(float(part.mean()), 2) if part.len() else None,  # type: ignore[arg-type]
            "median": round(float(part.median()), 2) if part.len() else None,  # type: ignore[arg-type]
        }
    extra = longer["extra_days"]
    return HeldLongerReport(
        bookings_with_hold=holds.height,
        judgeable=judgeable,
        held_longer=longer.height,
        hold_only=holds.filter(pl.col("verdict") == "hold_only").height,
        open_hold=holds.filter(pl.col("verdict") == "open").height,
        extra_days_mean=round(float(extra.mean()), 2) if extra.len() else None,  # type: ignore[arg-type]
        extra_days_median=round(float(extra.median()), 2) if extra.len() else None,  # type: ignore[arg-type]
        length_of_stay=los,
        per_booking=holds.select("booking_id", "verdict", "extra_days").sort("booking_id"),
    )
