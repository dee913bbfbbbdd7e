"""Honest numbers from imported data: outcomes with named denominators, monthly detainer bookings, held-longer,
re-arrest, reconciliation, policy concordance and compliance report views."""

from detainers.analytics._charts import bar_chart, line_chart
from detainers.analytics._compliance import (
    TRUTH_ACT_ANSWERS,
    illinois_805_25_rows,
    truth_act_annual,
    truth_act_notices,
)
from detainers.analytics._concordance import ConcordanceReport, Disagreement, Undecided, concordance, form_in_use
from detainers.analytics._dedup import flag_duplicates
from detainers.analytics._held_longer import HeldLongerReport, held_longer
from detainers.analytics._monthly import MonthRow, bookings_by_month
from detainers.analytics._outcomes import GROUP_KEYS, OutcomeCounts, OutcomeReport, outcome_report
from detainers.analytics._published import CellCheck, compare_facility_cells, compare_monthly_table
from detainers.analytics._rates import DENOMINATORS, Rate
from detainers.analytics._rearrest import RearrestReport, rearrest
from detainers.analytics._reconcile import Reconciliation, reconcile
from detainers.analytics._taxonomy import (
    UNCLASSIFIED,
    LiftReasonRule,
    Outcome,
    classify_outcomes,
    lift_reason_table,
    normalize_lift_reason,
)

__all__ = [
    "DENOMINATORS",
    "TRUTH_ACT_ANSWERS",
    "GROUP_KEYS",
    "UNCLASSIFIED",
    "CellCheck",
    "ConcordanceReport",
    "Disagreement",
    "HeldLongerReport",
    "LiftReasonRule",
    "MonthRow",
    "Outcome",
    "OutcomeCounts",
    "OutcomeReport",
    "Rate",
    "RearrestReport",
    "Reconciliation",
    "Undecided",
    "bar_chart",
    "bookings_by_month",
    "classify_outcomes",
    "compare_facility_cells",
    "compare_monthly_table",
    "concordance",
    "flag_duplicates",
    "form_in_use",
    "held_longer",
    "illinois_805_25_rows",
    "lift_reason_table",
    "line_chart",
    "normalize_lift_reason",
    "outcome_report",
    "rearrest",
    "reconcile",
    "truth_act_annual",
    "truth_act_notices",
]
