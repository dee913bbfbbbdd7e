"""Held longer because of the detainer (UWCHR Pierce County method, github.com/UWCHR/ice-detainers-pierce).

Per booking with an immigration hold line: the booking was *held longer because of the detainer* when the hold
line's release is later than the latest release of every other charge line. The extra time is the gap between the
two. Bookings whose only line is the hold cannot be judged and are counted apart; so are bookings with a line still
open. Lines closed as entry errors or as not-a-release (case merged, charge refiled) are not "other charges".

Length of stay is the booking's release minus its booking time, in days (hours/24 when the export has clock
times; whole days otherwise), compared between bookings with and without a hold: mean and median, unrounded. The
booking's release is its own (a bookings file, booking lines or the booking columns repeated on charge lines) when
the export gives it, else the latest release of its charge lines; every per-booking row carries both lengths.

``clock``: ``elapsed`` (default) measures true elapsed time; ``local`` measures wall-clock time in the jail's zone,
as an analysis on naive local timestamps does (the two differ by an hour for a stay spanning a DST change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from detainers.analytics._rates import Rate

__all__ = ["CLOCKS", "HeldLongerReport", "held_longer"]

_NOT_OTHER = ("error", "not_a_release")
CLOCKS = ("elapsed", "local")
Clock = Literal["elapsed", "local"]


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
    clock: str = "elapsed"
    bookings: int = 0

    def rate(self) -> Rate:
        return Rate(self.held_longer, self.judgeable, "of bookings with a hold and other charges")

    def as_dict(self) -> dict[str, object]:
        return {
            "report": "held-longer",
            "bookings": self.bookings,
            "bookings_with_hold": self.bookings_with_hold,
            "judgeable": self.judgeable,
            "held_longer": self.held_longer,
            "held_longer_rate": self.rate().as_dict(),
            "hold_only_bookings": self.hold_only,
            "hold_not_yet_released": self.open_hold,
            "extra_days_mean": self.extra_days_mean,
            "extra_days_median": self.extra_days_median,
            "length_of_stay_days": self.length_of_stay,
            "clock": self.clock,
            "method": "hold line released later than the latest release of every other charge line (UWCHR)",
            "length_of_stay_definition": "the booking's own release minus its booking time (the latest charge "
            "line's release when the export gives no booking release); bookings still in custody are left out",
        }

    def csv_rows(self) -> list[dict[str, object]]:
        return self.per_booking.to_dicts()


def _local(column: str, zone: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(zone).dt.replace_time_zone(None)


def _days(end: str, start: str, end_on: str, start_on: str, clock: Clock, zone: str | None) -> pl.Expr:
    if clock == "local" and zone is not None:
        exact = (_local(end, zone) - _local(start, zone)).dt.total_microseconds() / 86_400_000_000.0
    else:
        exact = (pl.col(end) - pl.col(start)).dt.total_microseconds() / 86_400_000_000.0
    by_date = (pl.col(end_on) - pl.col(start_on)).dt.total_days().cast(pl.Float64)
    return pl.when(pl.col(end).is_not_null() & pl.col(start).is_not_null()).then(exact).otherwise(by_date)


def _stats(values: pl.Series) -> dict[str, float | int | None]:
    clean = values.drop_nulls()
    return {
        "bookings": clean.len(),
        "mean": float(clean.mean()) if clean.len() else None,  # type: ignore[arg-type]
        "median": float(clean.median()) if clean.len() else None,  # type: ignore[arg-type]
    }


def held_longer(bookings: pl.DataFrame, charges: pl.DataFrame, *, clock: Clock = "elapsed") -> HeldLongerReport:
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    zones = bookings["timezone"].drop_nulls().unique().to_list() if "timezone" in bookings.columns else []
    if clock == "local" and len(zones) != 1:
        raise ValueError(
            "clock local needs the jail's time zone: "
            + ("this data has none (imported before zones were stored)" if not zones else f"several: {zones}")
        )
    zone = zones[0] if len(zones) == 1 else None
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
    every = charges.group_by("booking_id").agg(
        pl.when(pl.col("released_on").is_null().any()).then(None).otherwise(pl.col("released_on").max()).alias("c_on"),
        pl.when(pl.col("released_on").is_null().any()).then(None).otherwise(pl.col("released_at").max()).alias("c_at"),
    )
    verdict = (
        pl.when(~pl.col("has_hold").fill_null(False))
        .then(pl.lit("no_hold"))
        .when(pl.col("others") == 0)
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
    )
    released_from = pl.col("released_from") if "released_from" in bookings.columns else pl.lit(None, pl.String)
    table = (
        bookings.select(
            "booking_id", "booked_on", "booked_at", "released_on", "released_at", released_from.alias("released_from")
        )
        .join(per, on="booking_id", how="left")
        .join(every, on="booking_id", how="left")
        .with_columns(
            verdict.alias("verdict"),
            _days("hold_at", "other_at", "hold_on", "other_on", clock, zone).alias("extra_days"),
            _days("released_at", "booked_at", "released_on", "booked_on", clock, zone).alias("length_of_stay_days"),
            _days("c_at", "booked_at", "c_on", "booked_on", clock, zone).alias("length_of_stay_days_from_charges"),
        )
        .with_columns(
            pl.when(pl.col("verdict") == "held_longer").then(pl.col("extra_days")).otherwise(None).alias("extra_days"),
            pl.col("has_hold").fill_null(False).alias("immigration_hold"),
        )
    )
    holds = table.filter(pl.col("immigration_hold"))
    longer = holds.filter(pl.col("verdict") == "held_longer")
    los: dict[str, dict[str, float | int | None]] = {
        "with_hold": _stats(holds["length_of_stay_days"]),
        "without_hold": _stats(table.filter(~pl.col("immigration_hold"))["length_of_stay_days"]),
        "all": _stats(table["length_of_stay_days"]),
    }
    extra = _stats(longer["extra_days"])
    per_booking = table.select(
        "booking_id",
        "immigration_hold",
        "verdict",
        "extra_days",
        "length_of_stay_days",
        "length_of_stay_days_from_charges",
        pl.col("released_from").alias("release_from"),
    ).sort("booking_id")
    return HeldLongerReport(
        bookings_with_hold=holds.height,
        judgeable=holds.filter(pl.col("verdict").is_in(["held_longer", "not_longer"])).height,
        held_longer=longer.height,
        hold_only=holds.filter(pl.col("verdict") == "hold_only").height,
        open_hold=holds.filter(pl.col("verdict") == "open").height,
        extra_days_mean=extra["mean"],
        extra_days_median=extra["median"],
        length_of_stay=los,
        per_booking=per_booking,
        clock=clock,
        bookings=table.height,
    )
