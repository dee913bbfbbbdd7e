"""Policy concordance: what the jail did with each detainer against what its policy packs say (``detainers.law``).

Each booking with an immigration hold becomes a :class:`detainers.domain.Case`: the booking's charges, the moment
the person would otherwise have gone free (the latest release of the other charge lines, with that line's release
reason), and one detainer. Jail exports do not say which form ICE sent, so the form is the one in use on the
booking date — an assumption printed with the report. Exports with dates only are read as local
midnight, so hour-level limits (48 hours) are judged to the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl

from detainers.domain import (
    Booking,
    Case,
    Charge,
    Detainer,
    DetainerForm,
    EligibilityReason,
    Level,
    ReleasedTo,
)

__all__ = ["ConcordanceReport", "Disagreement", "concordance", "form_in_use"]

_FORM_DATES: tuple[tuple[date, DetainerForm], ...] = (
    (date(2017, 4, 2), DetainerForm.I247A_2017),
    (date(2015, 6, 1), DetainerForm.I247D_2015),
    (date(2012, 12, 21), DetainerForm.I247_DEC2012),
)


def form_in_use(day: date) -> DetainerForm:
    """The hold-requesting form ICE used on ``day`` (I-247D from mid-2015 is an approximation of its roll-out)."""
    for start, form in _FORM_DATES:
        if day >= start:
            return form
    return DetainerForm.I247_PRE2012


@dataclass(frozen=True)
class Disagreement:
    case: str
    actual: str
    policy: str
    explanation: str


@dataclass
class ConcordanceReport:
    jurisdiction: str
    decided: int
    agree: int
    undecidable: int
    disagreements: list[Disagreement] = field(default_factory=list)
    undecidable_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "report": "concordance",
            "jurisdiction": self.jurisdiction,
            "decided": self.decided,
            "agree": self.agree,
            "disagree": len(self.disagreements),
            "undecidable": self.undecidable,
            "undecidable_reasons": self.undecidable_reasons,
            "disagreements": [d.__dict__ for d in self.disagreements],
            "assumptions": [
                "detainer form = the form in use on the booking date (exports do not record it)",
                "release eligibility = latest release of the non-hold charge lines",
                "date-only exports are read as local midnight, and a hold is flagged as too long only when it ends "
                "more than one calendar day after the allowed end",
            ],
        }


def _instant(on: date | None, at: datetime | None, zone: ZoneInfo) -> datetime | None:
    if at is not None:
        return at
    if on is None:
        return None
    return datetime.combine(on, time(0, 0), zone)


def _level(value: str | None) -> Level | None:
    try:
        return Level(value) if value else None
    except ValueError:
        return None


def concordance(
    bookings: pl.DataFrame, charges: pl.DataFrame, *, jurisdiction: str, timezone: str, limit: int | None = None
) -> ConcordanceReport:
    """Decide every booking with an immigration hold and compare with what happened."""
    from detainers.law import DecisionError, Transfer, decide

    zone = ZoneInfo(timezone)
    report = ConcordanceReport(jurisdiction, 0, 0, 0)
    wanted = ["hold", "level", "charge_code", "charge_text", "released_on", "released_at", "release_reason"]
    lines = charges.group_by("booking_id", maintain_order=True).agg([pl.col(c).alias(f"c_{c}") for c in wanted])
    table = bookings.filter(pl.col("immigration_hold")).join(lines, on="booking_id", how="inner")
    if limit is not None:
        table = table.head(limit)
    for number, row in enumerate(table.iter_rows(named=True), start=1):
        name = f"booking #{number}"
        hold = [i for i, h in enumerate(row["c_hold"]) if h == "immigration"]
        other = [
            i
            for i, h in enumerate(row["c_hold"])
            if h is None and (row["c_release_reason"][i] or "") not in ("error", "not_a_release")
        ]

        def skip(why: str) -> None:
            report.undecidable += 1
            report.undecidable_reasons[why] = report.undecidable_reasons.get(why, 0) + 1

        if not other:
            skip("no charge other than the hold")
            continue
        charges_model = []
        for i in other:
            level = _level(row["c_level"][i])
            if level is None:
                continue
            statute = row["c_charge_code"][i] or row["c_charge_text"][i] or "unknown"
            charges_model.append(Charge(statute=statute, level=level))
        ends = [(row["c_released_on"][i], row["c_released_at"][i], row["c_release_reason"][i]) for i in other]
        if any(on is None for on, _, _ in ends):
            skip("a charge still open: no release eligibility yet")
            continue
        last = max(ends, key=lambda item: (item[0], item[1] or datetime.min.replace(tzinfo=zone)))
        eligible = _instant(last[0], last[1], zone)
        booked = _instant(row["booked_on"], row["booked_at"], zone)
        if eligible is None or booked is None or eligible < booked:
            skip("booking or release time missing or out of order")
            continue
        try:
            reason = EligibilityReason(last[2]) if last[2] else EligibilityReason.OTHER
        except ValueError:
            reason = EligibilityReason.OTHER
        released = _instant(row["released_on"], row["released_at"], zone)
        released_to = {
            "released_to_ice": ReleasedTo.ICE,
            "transferred": ReleasedTo.OTHER_AGENCY,
        }.get(row["release_reason"] or "", ReleasedTo.PUBLIC)
        try:
            case = Case(
                name=name,
                booking=Booking(
                    facility=row.get("facility"),
                    jurisdiction=jurisdiction,
                    timezone=timezone,
                    booked_at=booked,
                    charges=tuple(charges_model),
                    eligible_for_release_at=eligible,
                    eligibility_reason=reason,
                    released_at=released if released and released >= booked else None,
                    released_to=released_to,
                ),
                detainers=(Detainer(form=form_in_use(booked.date()), received_at=booked),),
            )
            decision = decide(case)
        except (DecisionError, ValueError) as exc:
            skip(type(exc).__name__ + ": " + str(exc).split("\n")[0][:80])
            continue
        report.decided += 1
        hold_release = [_instant(row["c_released_on"][i], row["c_released_at"][i], zone) for i in hold]
        held_until = max((h for h in hold_release if h is not None), default=None)
        actual_transfer = released_to is ReleasedTo.ICE
        problems: list[tuple[str, str]] = []
        if actual_transfer and decision.transfer is Transfer.NOT_ALLOWED:
            problems.append(("transferred to ICE", "transfer not allowed"))
        if not actual_transfer and decision.transfer is Transfer.REQUIRED and released_to is ReleasedTo.PUBLIC:
            problems.append(("released to the public", "transfer required"))
        if held_until is not None and held_until > eligible:
            limit_at = decision.hold_until
            if limit_at is None:
                problems.append((f"held on the detainer until {held_until.date()}", "no hold allowed"))
            elif (held_until.date() - limit_at.astimezone(zone).date()).days > (0 if row["booked_at"] else 1):
                problems.append(
                    (f"held on the detainer until {held_until.date()}", f"hold allowed until {limit_at.date()}")
                )
        if not problems:
            report.agree += 1
            continue
        why = "; ".join(step.text for step in decision.explanation if step.kind == "rule")[:400]
        for actual, policy in problems:
            report.disagreements.append(Disagreement(name, actual, policy, why or "no rule text"))
    return report
