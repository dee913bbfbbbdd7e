"""Calibration numbers for the synthetic population, each with its source (see docs/synth.md).

Shares are rounded; where the brief gives no number the value is an engineering guess marked [I].
"""

from __future__ import annotations

from datetime import date

__all__ = [
    "ADMISSIONS_MILLIONS",
    "CONVICTION_COUNT_WEIGHTS",
    "DETAINERS_PER_FY",
    "ELIGIBILITY_MIX",
    "FORM_ERAS",
    "GONZALEZ_FROM",
    "GONZALEZ_STATES",
    "LIFT_REASONS",
    "LOS_DAYS",
    "NO_CONVICTION_SHARE",
    "OUTCOMES_BY_ERA",
    "detainer_share",
    "fiscal_year",
]

# §6.1 detainers issued per federal fiscal year (TRAC 511/719/748/758; ICE reports [R]; 2025 annualized [I]).
DETAINERS_PER_FY: dict[int, int] = {
    2009: 256_947,  # NPR calendar-year count used for the FY [V, CY]
    2010: 301_119,
    2011: 314_966,
    2012: 276_181,
    2013: 209_208,
    2014: 159_210,
    2015: 97_045,
    2016: 85_720,
    2017: 142_474,
    2018: 177_300,
    2019: 166_800,
    2020: 122_233,
    2021: 65_940,
    2022: 78_800,
    2023: 125_000,
    2024: 139_000,
    2025: 255_000,  # ~700/day [V3] TRAC 758, annualized [I]
}

# §6.5 BJS jail admissions (millions, July-June years mapped to the FY ending in them); gaps interpolated [I].
ADMISSIONS_MILLIONS: dict[int, float] = {
    2009: 11.6, 2010: 11.5, 2011: 11.4, 2012: 11.2, 2013: 11.0, 2014: 10.9, 2015: 10.8, 2016: 10.6,
    2017: 10.5, 2018: 10.4, 2019: 10.3, 2020: 8.7, 2021: 7.3, 2022: 7.3, 2023: 7.6, 2024: 7.6, 2025: 7.6,
}  # fmt: skip


def fiscal_year(day: date) -> int:
    """Federal fiscal year: October 1 starts the next year's FY."""
    return day.year + 1 if day.month >= 10 else day.year


def detainer_share(fy: int) -> float:
    """Share of jail bookings that draw a detainer in ``fy`` (detainers / admissions; clamped to known years)."""
    fy = min(max(fy, min(DETAINERS_PER_FY)), max(DETAINERS_PER_FY))
    return DETAINERS_PER_FY[fy] / (ADMISSIONS_MILLIONS[fy] * 1_000_000)


# §1.2 form versions by receipt date: (first day, {form code: share}).
FORM_ERAS: tuple[tuple[date, dict[str, float]], ...] = (
    (date(1997, 4, 1), {"I247_PRE2012": 1.0}),
    (date(2012, 12, 21), {"I247_DEC2012": 1.0}),
    # PEP forms from mid-2015 (UWCHR: introduced May 2015); older I-247s stay in use for a while [I]
    (date(2015, 6, 1), {"I247D_2015": 0.55, "I247N_2015": 0.25, "I247X_2015": 0.05, "I247_DEC2012": 0.15}),
    (date(2016, 1, 1), {"I247D_2015": 0.65, "I247N_2015": 0.29, "I247X_2015": 0.06}),
    (date(2017, 4, 2), {"I247A_2017": 1.0}),
    (date(2025, 5, 1), {"I247A_2025": 0.8, "I247A_2017": 0.2}),
)
# Gonzalez settlement (I-247G from 2025-03-04) for the Chicago area of responsibility [V3].
GONZALEZ_FROM = date(2025, 3, 4)
GONZALEZ_STATES = frozenset({"il", "in", "wi", "mo", "ky", "ks"})

# §6.2 outcome shares of detainers (normalized lift-reason enum of §5.4), by era of receipt.
# NPR 2014: booked 33.9% and declined 9.2% of all detainers, ~49% without a lift reason; recent NA 37.4%.
OUTCOMES_BY_ERA: tuple[tuple[date, dict[str, float]], ...] = (
    (date(1997, 1, 1), {"BOOKED_BY_ICE": 0.55, "DECLINED_BY_LEA": 0.01, "RELEASED_BEFORE_PICKUP": 0.08,
                        "LIFTED_BY_ICE": 0.08, "ADMIN": 0.03, "OPEN": 0.25}),
    (date(2014, 1, 1), {"BOOKED_BY_ICE": 0.34, "DECLINED_BY_LEA": 0.09, "RELEASED_BEFORE_PICKUP": 0.08,
                        "LIFTED_BY_ICE": 0.06, "ADMIN": 0.02, "OPEN": 0.41}),
    (date(2017, 1, 1), {"BOOKED_BY_ICE": 0.40, "DECLINED_BY_LEA": 0.05, "RELEASED_BEFORE_PICKUP": 0.10,
                        "LIFTED_BY_ICE": 0.06, "ADMIN": 0.02, "OPEN": 0.37}),
)  # fmt: skip
LIFT_REASONS = {
    "BOOKED_BY_ICE": ("Booked into Detention",),
    "DECLINED_BY_LEA": ("Detainer Declined by LEA",),
    "RELEASED_BEFORE_PICKUP": ("Early Release", "Insufficient Notice to ICE", "ICE Temporary Resource Constraint"),
    "LIFTED_BY_ICE": ("Prosecutorial Discretion", "Case Closed", "Not Amenable to Removal",
                      "USC or Presumptive Claim to US Citizenship"),
    "ADMIN": ("Duplicate", "Superseding - New Form Issued"),
    "OPEN": ("",),
}  # fmt: skip

# §6.5 length of stay (days), lognormal by (median, mean): Pierce County no-hold median 3.15 and BJS mean 32;
# Pierce hold bookings median 34.8, mean 73.6.
LOS_DAYS = {"no_detainer": (3.15, 32.0), "detainer": (34.8, 73.6)}

# §6.5 Pierce County release dispositions (charge-level counts) mapped to §4.1 eligibility reasons.
ELIGIBILITY_MIX: tuple[tuple[str, str, int], ...] = (
    ("Bail Bond", "bond_posted", 10_081),
    ("PR", "own_recognizance", 8_050),
    ("Time Served", "time_served", 7_255),
    ("Dismissed", "dismissed", 5_968),
    ("WSI Chain", "other", 5_792),
    ("Credit for Time Served", "time_served", 4_982),
    ("NCF Final", "dismissed", 4_940),
    ("Court Order", "court_order", 4_424),
    ("Mini-Chain", "other", 2_958),
    ("Probation/Parole Officer", "other", 2_649),
    ("PDC", "diversion", 2_559),
    ("No Charges Filed", "dismissed", 1_473),
    ("Cash Bail", "bond_posted", 1_137),
    ("Suspended Sentence", "time_served", 1_021),
    ("No Prob Cause", "dismissed", 475),
    ("Not Guilty Verdict", "acquitted", 75),
)

# §6.3 47.7% of detainer subjects had no criminal conviction (TRAC 330); the count of priors otherwise is [I].
NO_CONVICTION_SHARE = 0.477
CONVICTION_COUNT_WEIGHTS = (0.40, 0.25, 0.15, 0.10, 0.10)  # 1..5 priors among those with any [I]
