"""What became of detainers: counts per outcome, de-duplicated where identifiers exist, with named denominators.

Definitions (printed with every report):

- *detainers issued*: rows of the release after de-duplication (every row when the release has no identifiers);
- *resolved*: detainers issued with a lift reason recorded (everything except ``open``);
- *decisions by the jail*: detainers whose record says what the jail did with the request — ICE booked the person
  (``booked_by_ice``) or the jail declined (``declined_by_lea``). ``released_before_pickup`` is not counted as a
  decision: the record does not say who chose the release.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from detainers.analytics._dedup import flag_duplicates
from detainers.analytics._rates import DENOMINATORS, Rate
from detainers.analytics._taxonomy import UNCLASSIFIED, Outcome, classify_outcomes

__all__ = ["GROUP_KEYS", "OutcomeCounts", "OutcomeReport", "outcome_report"]

#: ``--by`` keys and the expression that computes each.
GROUP_KEYS: dict[str, pl.Expr] = {
    "facility": pl.col("facility").fill_null("(no facility)"),
    "state": pl.col("state").fill_null("(no state)"),
    "year": pl.col("prepare_date").dt.year().cast(pl.String),
    "fiscal_year": pl.format(
        "FY{}", pl.col("prepare_date").dt.year() + (pl.col("prepare_date").dt.month() >= 10).cast(pl.Int32)
    ),
    "month": pl.col("prepare_date").dt.strftime("%Y-%m"),
    "form": pl.col("detainer_form").fill_null("(no form recorded)"),
}

CAVEATS: tuple[str, ...] = (
    "Lift reasons are ICE's own record; jails do not generally tell ICE when they decline, so 'declined_by_lea' "
    "counts only declines ICE became aware of (DDOR Section IV).",
    "'open' means no lift reason was recorded when the data were extracted: still active, or never closed out.",
    "Facility names are ICE's; the same name can denote facilities in different states.",
)


@dataclass
class OutcomeCounts:
    total_rows: int
    deduplicated_total: int
    by_outcome: dict[str, int]
    unclassified: int

    def rates(self) -> dict[str, dict[str, Rate]]:
        issued = self.deduplicated_total
        resolved = issued - self.by_outcome[Outcome.OPEN.value]
        decisions = self.by_outcome[Outcome.BOOKED_BY_ICE.value] + self.by_outcome[Outcome.DECLINED_BY_LEA.value]
        out: dict[str, dict[str, Rate]] = {}
        for name, count in [*self.by_outcome.items(), (UNCLASSIFIED, self.unclassified)]:
            rates = {"issued": Rate(count, issued, DENOMINATORS["issued"])}
            if name != Outcome.OPEN.value:
                rates["resolved"] = Rate(count, resolved, DENOMINATORS["resolved"])
            if name in (Outcome.BOOKED_BY_ICE.value, Outcome.DECLINED_BY_LEA.value):
                rates["jail_decisions"] = Rate(count, decisions, DENOMINATORS["jail_decisions"])
            out[name] = rates
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "total_rows": self.total_rows,
            "deduplicated_total": self.deduplicated_total,
            "by_outcome": dict(self.by_outcome),
            "unclassified": self.unclassified,
            "rates": {
                name: {key: rate.as_dict() for key, rate in rates.items()} for name, rates in self.rates().items()
            },
        }


@dataclass
class OutcomeReport:
    source: str
    layout: str
    overall: OutcomeCounts
    by: list[str]
    groups: list[tuple[dict[str, str], OutcomeCounts]]
    unknown_lift_reasons: dict[str, int]
    deduplication: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "report": "outcomes",
            "source": self.source,
            "layout": self.layout,
            **self.overall.as_dict(),
            "unknown_lift_reasons": self.unknown_lift_reasons,
            "deduplication": self.deduplication,
            "definitions": {
                "detainers issued": "rows after de-duplication (all rows when the release has no identifiers)",
                "resolved": "detainers issued with a lift reason recorded (all but open)",
                "decisions by the jail": "booked_by_ice + declined_by_lea",
            },
            "caveats": list(CAVEATS),
            "notes": self.notes,
        }
        if self.by:
            out["by"] = self.by
            out["groups"] = [{"group": key, **counts.as_dict()} for key, counts in self.groups]
        return out

    def csv_rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        blocks = [(dict.fromkeys(self.by, "(all)"), self.overall), *self.groups]
        for key, counts in blocks:
            for name, rates in counts.rates().items():
                row: dict[str, object] = {**key, "outcome": name, "count": rates["issued"].numerator}
                for which in DENOMINATORS:
                    rate = rates.get(which)
                    row[f"denominator_{which}"] = rate.denominator if rate else None
                    row[f"percent_{which}"] = round(rate.share * 100, 2) if rate and rate.share is not None else None
                rows.append(row)
        return rows


def _counts(frame: pl.DataFrame) -> OutcomeCounts:
    kept = frame.filter(~pl.col("duplicate_likely"))
    tally = dict(kept.group_by("outcome").len().iter_rows())
    return OutcomeCounts(
        total_rows=frame.height,
        deduplicated_total=kept.height,
        by_outcome={outcome.value: int(tally.get(outcome.value, 0)) for outcome in Outcome},
        unclassified=int(tally.get(UNCLASSIFIED, 0)),
    )


def outcome_report(frame: pl.DataFrame, *, source: str, layout: str, by: list[str] | None = None) -> OutcomeReport:
    """Outcomes of the detainer rows in ``frame`` (canonical detainer columns), overall and per ``by`` group."""
    by = by or []
    unknown_keys = [key for key in by if key not in GROUP_KEYS]
    if unknown_keys:
        raise ValueError(f"cannot group by {', '.join(unknown_keys)}; use {', '.join(GROUP_KEYS)}")
    classified, unknown = classify_outcomes(frame)
    flagged = flag_duplicates(classified)
    with_ids = int(flagged["person_id"].is_not_null().sum())
    dups = int(flagged["duplicate_likely"].sum())
    if with_ids == 0:
        dedup = "no person identifiers in this release: no de-duplication possible (deduplicated_total = total_rows)"
    else:
        dedup = (
            f"{dups:,} row(s) flagged as likely duplicates (same person, prepare dates at most one day apart; "
            f"Deportation Data Project rule); {flagged.height - with_ids:,} row(s) without identifier never flagged"
        )
    groups: list[tuple[dict[str, str], OutcomeCounts]] = []
    if by:
        keyed = flagged.with_columns([GROUP_KEYS[key].alias(f"__by_{key}") for key in by])
        cols = [f"__by_{key}" for key in by]
        for values, part in sorted(keyed.group_by(cols), key=lambda item: tuple(str(v) for v in item[0])):
            groups.append(({key: str(value) for key, value in zip(by, values, strict=True)}, _counts(part)))
    notes = []
    if unknown:
        notes.append(
            "lift reasons the taxonomy does not list (counted as 'unclassified', not guessed): "
            + "; ".join(f"{label!r} ×{count:,}" for label, count in unknown.items())
        )
    return OutcomeReport(source, layout, _counts(flagged), by, groups, unknown, dedup, notes)
