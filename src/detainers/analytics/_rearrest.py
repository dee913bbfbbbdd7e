"""Re-arrest after release: Kaplan–Meier cumulative incidence of a new booking within 1, 3 and 5 years.

Definitions (printed with the report):

- index release: a person's first release in the data (one per person, so observations are independent);
- cohort: ``released_despite_detainer`` (an immigration hold, released to the public), ``transferred`` (released to
  ICE or another agency), ``no_detainer`` (no immigration hold);
- event: the person's next booking after the release that is a *new* booking — at least one line that is not a
  hold (warrant-only, hold-only and transfer-in bookings are not re-arrests);
- censoring: end of data (the latest booking date in the export, or ``data_end``), and removal from the country
  when a removal date is known (``removed_on`` per person). Time in other custody is not known and not removed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import polars as pl

__all__ = ["CAVEATS", "RearrestReport", "rearrest"]

HORIZONS = {"1y": 365, "3y": 3 * 365 + 1, "5y": 5 * 365 + 1}

CAVEATS: tuple[str, ...] = (
    "A new booking in this jail only: arrests elsewhere are not seen, so these are lower bounds.",
    "Transferred people may have been removed from the country; without removal dates they stay 'at risk' "
    "and their incidence is biased down.",
    "Cohorts differ in charges, priors and age; compare them only with adjustment. "
    "These are not recidivism rates in the BJS sense (any arrest anywhere; return to prison).",
    "BJS's 46% is the 5-year return-to-prison rate of all state prisoners released in 2012: a different "
    "population and measure; do not compare.",
)


@dataclass
class Horizon:
    days: int
    incidence: float | None
    lower: float | None
    upper: float | None
    at_risk: int


@dataclass
class Cohort:
    name: str
    people: int
    events: int
    horizons: dict[str, Horizon]


@dataclass
class RearrestReport:
    data_end: date
    cohorts: list[Cohort]

    def as_dict(self) -> dict[str, object]:
        return {
            "report": "rearrest",
            "data_end": self.data_end.isoformat(),
            "method": "Kaplan-Meier cumulative incidence (1 - S(t)) with 95% confidence intervals, lifelines",
            "cohorts": [
                {
                    "cohort": c.name,
                    "people": c.people,
                    "events": c.events,
                    "horizons": {
                        k: {
                            "days": h.days,
                            "cumulative_incidence": h.incidence,
                            "ci_lower": h.lower,
                            "ci_upper": h.upper,
                            "at_risk": h.at_risk,
                        }
                        for k, h in c.horizons.items()
                    },
                }
                for c in self.cohorts
            ],
            "caveats": list(CAVEATS),
        }


def _cohort_of() -> pl.Expr:
    return (
        pl.when(~pl.col("immigration_hold"))
        .then(pl.lit("no_detainer"))
        .when(pl.col("release_reason").is_in(["released_to_ice", "transferred"]))
        .then(pl.lit("transferred"))
        .otherwise(pl.lit("released_despite_detainer"))
    )


def rearrest(
    bookings: pl.DataFrame,
    charges: pl.DataFrame,
    *,
    data_end: date | None = None,
    removed_on: dict[str, date] | None = None,
) -> RearrestReport:
    """Re-arrest incidence by cohort. Needs ``person_id``; bookings without one are left out."""
    from lifelines import KaplanMeierFitter

    new_booking = charges.group_by("booking_id").agg(pl.col("hold").is_null().any().alias("new"))
    b = bookings.filter(pl.col("person_id").is_not_null()).join(new_booking, on="booking_id", how="left")
    end = data_end or b["booked_on"].max()
    if not isinstance(end, date):
        raise ValueError("no booking dates: cannot place the end of the data")
    index = (
        b.filter(pl.col("released_on").is_not_null())
        .sort("person_id", "released_on", "booking_id")
        .group_by("person_id", maintain_order=True)
        .first()
        .with_columns(_cohort_of().alias("cohort"))
        .select("person_id", "booking_id", "released_on", "cohort")
    )
    later = b.filter(pl.col("new").fill_null(False)).select("person_id", pl.col("booked_on").alias("next_on"))
    nxt = (
        index.join(later, on="person_id", how="left")
        .with_columns(pl.when(pl.col("next_on") > pl.col("released_on")).then(pl.col("next_on")).alias("next_on"))
        .group_by("person_id", "booking_id", "released_on", "cohort")
        .agg(pl.col("next_on").min())
    )
    removal = pl.DataFrame(
        {"person_id": list((removed_on or {}).keys()), "removed_on": list((removed_on or {}).values())},
        schema={"person_id": pl.String, "removed_on": pl.Date},
    )
    nxt = nxt.join(removal, on="person_id", how="left").with_columns(
        pl.min_horizontal(pl.lit(end), pl.col("removed_on")).alias("censor_on")
    )
    nxt = nxt.with_columns(
        (pl.col("next_on").is_not_null() & (pl.col("next_on") <= pl.col("censor_on"))).alias("event"),
    ).with_columns(
        pl.when(pl.col("event"))
        .then((pl.col("next_on") - pl.col("released_on")).dt.total_days())
        .otherwise((pl.col("censor_on") - pl.col("released_on")).dt.total_days())
        .clip(lower_bound=0)
        .alias("days")
    )
    cohorts: list[Cohort] = []
    for name in ("released_despite_detainer", "transferred", "no_detainer"):
        part = nxt.filter(pl.col("cohort") == name)
        horizons: dict[str, Horizon] = {}
        if part.height:
            fitter = KaplanMeierFitter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitter.fit(part["days"].to_numpy(), part["event"].to_numpy(), label=name)
            ci = fitter.confidence_interval_survival_function_
            durations = part["days"].to_numpy()
            for key, days in HORIZONS.items():
                at_risk = int((durations >= days).sum())
                if durations.max() < days:
                    horizons[key] = Horizon(days, None, None, None, at_risk)
                    continue
                survival = float(fitter.survival_function_at_times(days).iloc[0])
                row = ci[ci.index <= days].iloc[-1]
                horizons[key] = Horizon(
                    days,
                    round(1 - survival, 4),
                    round(1 - float(row.iloc[1]), 4),
                    round(1 - float(row.iloc[0]), 4),
                    at_risk,
                )
        cohorts.append(Cohort(name, part.height, int(part["event"].sum()), horizons))
    return RearrestReport(end, cohorts)
