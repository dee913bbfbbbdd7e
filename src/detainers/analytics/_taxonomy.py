"""Outcome taxonomy: every ICE lift reason mapped to one of seven outcomes (ICE's FOIA releases).

The mapping is a data table (``lift_reasons.csv`` beside this module) with an evidence tag per row. A lift reason
the table does not list is never guessed: it is counted as ``unclassified`` and named in every report.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import polars as pl

__all__ = [
    "UNCLASSIFIED",
    "LiftReasonRule",
    "Outcome",
    "classify_outcomes",
    "lift_reason_table",
    "normalize_lift_reason",
]


class Outcome(StrEnum):
    BOOKED_BY_ICE = "booked_by_ice"
    DECLINED_BY_LEA = "declined_by_lea"
    RELEASED_BEFORE_PICKUP = "released_before_pickup"
    LIFTED_BY_ICE = "lifted_by_ice"
    ADMINISTRATIVE = "administrative"
    DIED = "died"
    OPEN = "open"


#: Rows whose lift reason is not in the table.
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class LiftReasonRule:
    lift_reason: str
    outcome: Outcome
    evidence: str
    source: str
    note: str


def normalize_lift_reason(text: str) -> str:
    """Case and spacing do not matter: ``"booked  into detention"`` is ``"BOOKED INTO DETENTION"``."""
    return " ".join(text.upper().split())


def lift_reason_table() -> list[LiftReasonRule]:
    """The shipped lift-reason table."""
    with resources.files("detainers.analytics").joinpath("lift_reasons.csv").open(encoding="utf-8") as handle:
        return [
            LiftReasonRule(row["lift_reason"], Outcome(row["outcome"]), row["evidence"], row["source"], row["note"])
            for row in csv.DictReader(handle)
        ]


def classify_outcomes(frame: pl.DataFrame, column: str = "lift_reason") -> tuple[pl.DataFrame, dict[str, int]]:
    """Add an ``outcome`` column (null lift reason → ``open``; unknown → ``unclassified``); return unknown labels."""
    table = {normalize_lift_reason(rule.lift_reason): rule.outcome.value for rule in lift_reason_table()}
    key = pl.col(column).str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()
    out = frame.with_columns(
        pl.when(pl.col(column).is_null())
        .then(pl.lit(Outcome.OPEN.value))
        .otherwise(key.replace_strict(table, default=UNCLASSIFIED, return_dtype=pl.String))
        .alias("outcome")
    )
    unknown = out.filter(pl.col("outcome") == UNCLASSIFIED).get_column(column).value_counts(sort=True)
    return out, {str(label): int(count) for label, count in unknown.iter_rows()}
