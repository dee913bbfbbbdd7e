"""Reconcile a jail's own records with ICE's release for the same facility and months.

The jail side counts bookings carrying an immigration hold line (by month of booking) and what happened at release;
the ICE side counts detainer rows prepared for the facility (by month of preparation) and their outcomes. The two
never match exactly; each category of difference is printed with the causes it can have.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from detainers.analytics._taxonomy import classify_outcomes

__all__ = ["EXPLANATIONS", "Reconciliation", "reconcile"]

#: Category -> (jail side, ICE side, causes of a difference).
EXPLANATIONS: dict[str, tuple[str, str, str]] = {
    "lodged": (
        "bookings with an immigration hold line",
        "detainer rows prepared for the facility",
        "timing (a detainer prepared in another month than the booking); detainers lodged before booking or with "
        "another facility name; several detainers for one booking (duplicates, superseding forms); holds entered "
        "for people ICE lists elsewhere",
    ),
    "to_ice": (
        "bookings released to ICE",
        "booked_by_ice",
        "ICE books the person at a later date or from another facility; a release coded to ICE that ICE records as "
        "lifted or transferred",
    ),
    "hold_lifted": (
        "hold lines withdrawn/cancelled",
        "lifted_by_ice + administrative",
        "ICE cancels by phone or fax without the jail closing the line; superseding detainers",
    ),
    "released": (
        "bookings released to the public with a hold still on",
        "declined_by_lea + released_before_pickup",
        "ICE learns of a decline late or never (DDOR Section IV); releases after bond or time served while ICE "
        "was notified but did not come",
    ),
    "open": (
        "bookings with a hold not yet released",
        "open (no lift reason)",
        "different extraction dates; ICE leaves detainers open after the person has left",
    ),
}


@dataclass
class Reconciliation:
    facility: str
    months: list[str]
    by_month: list[dict[str, object]]
    categories: list[dict[str, object]]

    def as_dict(self) -> dict[str, object]:
        return {
            "report": "reconcile",
            "facility": self.facility,
            "months": [self.months[0], self.months[-1]] if self.months else [],
            "by_month": self.by_month,
            "categories": self.categories,
        }


def reconcile(bookings: pl.DataFrame, charges: pl.DataFrame, detainers: pl.DataFrame, facility: str) -> Reconciliation:
    """Compare over the months both sources cover. ``facility`` is the name as ICE spells it (case-insensitive)."""
    holds = charges.filter(pl.col("hold") == "immigration")
    lifted = holds.group_by("booking_id").agg((pl.col("release_reason") == "hold_lifted").any().alias("lifted"))
    jail = (
        bookings.filter(pl.col("immigration_hold"))
        .join(lifted, on="booking_id", how="left")
        .with_columns(pl.col("booked_on").dt.strftime("%Y-%m").alias("month"))
    )
    ice, _ = classify_outcomes(
        detainers.filter(pl.col("facility").str.to_uppercase() == facility.upper()).with_columns(
            pl.col("prepare_date").dt.strftime("%Y-%m").alias("month")
        )
    )
    months = sorted(set(jail["month"].drop_nulls()) & set(ice["month"].drop_nulls()))
    jail = jail.filter(pl.col("month").is_in(months))
    ice = ice.filter(pl.col("month").is_in(months))
    jm = dict(jail.group_by("month").len().iter_rows())
    im = dict(ice.group_by("month").len().iter_rows())
    by_month = [
        {
            "month": m,
            "jail": int(jm.get(m, 0)),
            "ice": int(im.get(m, 0)),
            "difference": int(jm.get(m, 0) - im.get(m, 0)),
        }
        for m in months
    ]
    reason = pl.col("release_reason").fill_null("")
    jail_counts = {
        "lodged": jail.height,
        "to_ice": jail.filter(reason == "released_to_ice").height,
        "hold_lifted": jail.filter(pl.col("lifted").fill_null(False)).height,
        "released": jail.filter(
            pl.col("released_on").is_not_null()
            & ~reason.is_in(["released_to_ice", "transferred"])
            & ~pl.col("lifted").fill_null(False)
        ).height,
        "open": jail.filter(pl.col("released_on").is_null()).height,
    }
    outcome = pl.col("outcome")
    ice_counts = {
        "lodged": ice.height,
        "to_ice": ice.filter(outcome == "booked_by_ice").height,
        "hold_lifted": ice.filter(outcome.is_in(["lifted_by_ice", "administrative"])).height,
        "released": ice.filter(outcome.is_in(["declined_by_lea", "released_before_pickup"])).height,
        "open": ice.filter(outcome == "open").height,
    }
    categories = [
        {
            "category": key,
            "jail_definition": EXPLANATIONS[key][0],
            "ice_definition": EXPLANATIONS[key][1],
            "jail": jail_counts[key],
            "ice": ice_counts[key],
            "difference": jail_counts[key] - ice_counts[key],
            "possible_causes": EXPLANATIONS[key][2],
        }
        for key in EXPLANATIONS
    ]
    return Reconciliation(facility, months, by_month, categories)
