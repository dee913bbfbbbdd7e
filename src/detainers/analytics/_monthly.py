"""Bookings that carried an immigration detainer, by month of booking, with felony and violent counts.

Charge classification (docs/reports.md): a booking "has at least one felony" when any of its charge lines that is
not a hold has level ``felony`` under the mapping's ``levels:``; it "has at least one violent charge" when any such
line's text matches the violent-offence patterns (``detainers.ingest.DEFAULT_VIOLENT_PATTERNS`` plus the
mapping's own). The immigration hold line itself never counts: a detainer is not an offence. Other holds (warrants,
writs) count by the level the jail gives them (a felony warrant is a felony charge); they are never violent.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from detainers.analytics._rates import Rate

__all__ = ["MonthRow", "bookings_by_month"]


@dataclass(frozen=True)
class MonthRow:
    month: str
    bookings: int
    with_felony: int | None  # None: the export gives no charge levels (not available, never a zero)
    with_violent: int | None  # None: the export gives no charge texts

    def as_dict(self) -> dict[str, object]:
        name = "of bookings with a detainer"
        return {
            "month": self.month,
            "bookings_with_detainer": self.bookings,
            "with_at_least_one_felony": self.with_felony,
            "with_at_least_one_violent": self.with_violent,
            "felony_rate": Rate(self.with_felony, self.bookings, name).as_dict()
            if self.with_felony is not None
            else None,
            "violent_rate": Rate(self.with_violent, self.bookings, name).as_dict()
            if self.with_violent is not None
            else None,
        }


def bookings_by_month(
    bookings: pl.DataFrame, charges: pl.DataFrame, *, since: str | None = None, until: str | None = None
) -> list[MonthRow]:
    """One row per month (``YYYY-MM`` of the local booking date) that has a booking with an immigration hold."""
    flags = charges.group_by("booking_id").agg(
        ((pl.col("level") == "felony") & (pl.col("hold").fill_null("") != "immigration")).any().alias("felony"),
        (pl.col("violent").fill_null(False) & pl.col("hold").is_null()).any().alias("violent"),
        (pl.col("hold") == "immigration").any().alias("hold"),
    )
    table = (
        bookings.select("booking_id", "booked_on")
        .join(flags, on="booking_id", how="inner")
        .filter(pl.col("hold") & pl.col("booked_on").is_not_null())
        .with_columns(pl.col("booked_on").dt.strftime("%Y-%m").alias("month"))
    )
    if since:
        table = table.filter(pl.col("month") >= since)
    if until:
        table = table.filter(pl.col("month") <= until)
    monthly = (
        table.group_by("month")
        .agg(pl.len().alias("n"), pl.col("felony").sum().alias("f"), pl.col("violent").sum().alias("v"))
        .sort("month")
    )
    offences = charges.filter(pl.col("hold").fill_null("") != "immigration")
    has_levels = offences.height > 0 and offences.get_column("level").null_count() < offences.height
    has_texts = offences.height > 0 and offences.get_column("charge_text").null_count() < offences.height
    return [
        MonthRow(m, int(n), int(f) if has_levels else None, int(v) if has_texts else None)
        for m, n, f, v in monthly.iter_rows()
    ]
