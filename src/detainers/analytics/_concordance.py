"""Policy concordance: what the jail did with each detainer against what its policy packs say (``detainers.law``).

Each booking with an immigration hold becomes a :class:`detainers.domain.Case`: the booking's charges (the
crosswalk's statute where one was given, else the jail's own code or text), the moment the person would otherwise
have gone free (the latest release of the other charge lines, with that line's release reason), and one detainer.
Jail exports do not say which form ICE sent, so the form is the one in use on the booking date —
an assumption printed with the report. Exports with dates only are read as local midnight.

Two kinds of input:

- **recorded decisions** (mapping version 2 ``decisions:``): the jail's decision per detainer (accepted, declined,
  released to ICE, reinstated). Every booking is decided *at the decision instant* — the data's own, else the one
  the user names, never before the booking — so bookings still in custody are judged, not skipped. The report is
  a confusion table (what the policy says × what the jail did) and both directions of disagreement;
- **releases only**: what happened at release (released to ICE or to the public, how long the hold line ran)
  against what the policy allowed; bookings still in custody are judged at ``as_of``.

Counts are in bookings. A decision that rests on facts the data cannot establish (an unknown statute, a level
the export does not give) is *undecided*: counted apart, with the facts named, never as agreement or disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
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

__all__ = ["ConcordanceReport", "Disagreement", "Undecided", "concordance", "form_in_use"]

_FORM_DATES: tuple[tuple[date, DetainerForm], ...] = (
    (date(2017, 4, 2), DetainerForm.I247A_2017),
    (date(2015, 6, 1), DetainerForm.I247D_2015),
    (date(2012, 12, 21), DetainerForm.I247_DEC2012),
)
_NOT_OTHER = ("error", "not_a_release")
_HONOURED = {"accepted", "released_to_ice", "reinstated"}
POLICY = ("required", "allowed", "forbidden", "undecided")
JAIL = ("honoured", "declined")


def form_in_use(day: date) -> DetainerForm:
    """The hold-requesting form ICE used on ``day`` (I-247D from mid-2015 is an approximation of its roll-out)."""
    for start, form in _FORM_DATES:
        if day >= start:
            return form
    return DetainerForm.I247_PRE2012


@dataclass(frozen=True)
class Disagreement:
    case: str  # the booking number
    actual: str  # what the jail did
    policy: str  # what the policy says
    explanation: str  # every rule the decision applied, in full
    direction: str = ""  # honoured_where_forbidden | declined_where_required | declined_where_allowed | ...
    charges: tuple[str, ...] = ()
    decided_at: str | None = None
    steps: tuple[str, ...] = ()  # the whole explanation, one line per step

    def as_dict(self) -> dict[str, object]:
        return {
            "booking_id": self.case,
            "direction": self.direction,
            "jail": self.actual,
            "policy": self.policy,
            "decided_at": self.decided_at,
            "charges": list(self.charges),
            "explanation": self.explanation,
            "steps": list(self.steps),
        }


@dataclass(frozen=True)
class Undecided:
    case: str
    actual: str
    facts: tuple[str, ...]
    charges: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "booking_id": self.case,
            "jail": self.actual,
            "unknown": list(self.facts),
            "charges": list(self.charges),
        }


@dataclass
class ConcordanceReport:
    jurisdiction: str
    decided: int  # bookings the policy decided on established facts
    agree: int
    undecidable: int  # bookings no decision could be made for (reasons below)
    disagreements: list[Disagreement] = field(default_factory=list)
    undecidable_reasons: dict[str, int] = field(default_factory=dict)
    mode: str = "releases"  # releases | decisions
    undecided: list[Undecided] = field(default_factory=list)  # decided on unknown facts: counted apart
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # policy answer -> jail action -> bookings
    directions: dict[str, int] = field(default_factory=dict)  # disagreeing bookings per direction
    decision_instant: str | None = None
    recorded: dict[str, int] = field(default_factory=dict)  # bookings per recorded decision value

    @property
    def disagreeing_bookings(self) -> int:
        return len({d.case for d in self.disagreements})

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "report": "concordance",
            "mode": self.mode,
            "jurisdiction": self.jurisdiction,
            "counts_in": "bookings",
            "bookings": self.decided + len(self.undecided) + self.undecidable,
            "decided": self.decided,
            "agree": self.agree,
            "disagree": self.disagreeing_bookings,
            "undecided": len(self.undecided),
            "undecidable": self.undecidable,
            "undecidable_reasons": self.undecidable_reasons,
            "directions": self.directions,
            "disagreements": [d.as_dict() for d in self.disagreements],
            "undecided_bookings": [u.as_dict() for u in self.undecided],
            "assumptions": [
                "detainer form = the form in use on the booking date (exports do not record it), received at booking",
                "release eligibility = latest release of the non-hold charge lines (none while a line is open)",
                "date-only exports are read as local midnight",
            ],
        }
        if self.mode == "decisions":
            out["confusion"] = {
                "rows": "what the policy says: required / allowed / forbidden to honour the detainer, or undecided",
                "columns": "what the jail recorded: honoured (accepted, released to ICE, reinstated) / declined",
                "table": self.confusion,
            }
            out["decision_instant"] = self.decision_instant
            out["recorded_decisions"] = self.recorded
        else:
            out["assumptions"].append(  # type: ignore[attr-defined]
                "a hold is flagged as too long only when it ends more than one calendar day after the allowed end "
                "(date-only exports)"
            )
        return out

    def csv_rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for d in self.disagreements:
            rows.append({**d.as_dict(), "charges": "; ".join(d.charges), "steps": " | ".join(d.steps)})
        return rows


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


def _charge_label(text: str | None, code: str | None, statute: str | None, level: str | None) -> str:
    name = text or code or "(no text)"
    parts = [p for p in (statute, level) if p]
    return f"{name} [{', '.join(parts)}]" if parts else name


@dataclass
class _Built:
    case: Case | None
    charges: tuple[str, ...]
    missing: tuple[str, ...]  # facts left out of the case (a charge with no level)
    skip: str | None = None
    eligible: datetime | None = None


def _build(row: dict[str, Any], jurisdiction: str, zone_name: str, at: datetime | None) -> _Built:
    """A case for one booking, decided at ``at`` (None: at release eligibility, as the engine picks)."""
    zone = ZoneInfo(zone_name)
    holds = row["c_hold"]
    other = [i for i, h in enumerate(holds) if h is None and (row["c_release_reason"][i] or "") not in _NOT_OTHER]
    labels = tuple(
        _charge_label(row["c_charge_text"][i], row["c_charge_code"][i], row["c_statute"][i], row["c_level"][i])
        for i in other
    )
    if not other:
        return _Built(None, labels, (), "no charge other than the hold")
    model: list[Charge] = []
    missing: list[str] = []
    for i in other:
        level = _level(row["c_level"][i])
        statute = row["c_statute"][i] or row["c_charge_code"][i] or row["c_charge_text"][i]
        if level is None or not statute:
            what = row["c_charge_text"][i] or row["c_charge_code"][i] or "a charge"
            missing.append(f"charge {what!r}: no {'level' if level is None else 'statute'} in the data")
            continue
        model.append(Charge(statute=statute, level=level))
    booked = _instant(row["booked_on"], row["booked_at"], zone)
    if booked is None:
        return _Built(None, labels, tuple(missing), "no booking time")
    ends = [(row["c_released_on"][i], row["c_released_at"][i], row["c_release_reason"][i]) for i in other]
    closed = [e for e in ends if e[0] is not None]
    eligible: datetime | None = None
    reason = EligibilityReason.OTHER
    if len(closed) == len(ends):
        last = max(closed, key=lambda item: (item[0], item[1] or datetime.min.replace(tzinfo=zone)))
        eligible = _instant(last[0], last[1], zone)
        try:
            reason = EligibilityReason(last[2]) if last[2] else EligibilityReason.OTHER
        except ValueError:
            reason = EligibilityReason.OTHER
    as_of = None
    if at is not None:
        as_of = max(at, booked)
        if eligible is not None and eligible > as_of:
            eligible = None  # not yet eligible at the decision instant: still held on its charges
    elif eligible is None:
        return _Built(None, labels, tuple(missing), "a charge still open: no release eligibility yet")
    if eligible is not None and eligible < booked:
        return _Built(None, labels, tuple(missing), "release before booking")
    released = _instant(row["released_on"], row["released_at"], zone)
    if as_of is not None and released is not None and released > as_of:
        released = None  # what happened after the decision is not a fact at it
    released_to = {"released_to_ice": ReleasedTo.ICE, "transferred": ReleasedTo.OTHER_AGENCY}.get(
        row["release_reason"] or "", ReleasedTo.PUBLIC
    )
    case = Case(
        name=str(row["booking_id"]),
        booking=Booking(
            facility=row.get("facility"),
            jurisdiction=jurisdiction,
            timezone=zone_name,
            booked_at=booked,
            charges=tuple(model),
            eligible_for_release_at=eligible,
            eligibility_reason=reason if eligible is not None else None,
            released_at=released if released and released >= booked else None,
            released_to=released_to if released else None,
        ),
        detainers=(Detainer(form=form_in_use(booked.date()), received_at=booked),),
        as_of=as_of,
    )
    return _Built(case, labels, tuple(missing), eligible=eligible)


def _policy(decision: Any) -> str:
    from detainers.law import Transfer

    if decision.transfer is Transfer.REQUIRED or decision.hold_required:
        return "required"
    if decision.transfer is Transfer.ALLOWED:
        return "allowed"
    return "forbidden"


def _why(decision: Any) -> tuple[str, tuple[str, ...]]:
    rules = "; ".join(step.text for step in decision.explanation if step.kind == "rule")
    return rules or "no rule applied (the layers' defaults decided)", tuple(
        f"{step.kind}: {step.text}" for step in decision.explanation
    )


def _at(value: datetime | date | None, zone: ZoneInfo) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0, 0), zone)


def concordance(
    bookings: pl.DataFrame,
    charges: pl.DataFrame,
    *,
    jurisdiction: str,
    timezone: str,
    limit: int | None = None,
    decided_at: datetime | date | None = None,
    as_of: datetime | date | None = None,
) -> ConcordanceReport:
    """Decide every booking with an immigration hold and compare with what the jail did.

    With recorded decisions (a ``decision`` column with values), each booking is decided at its own
    ``decided_at`` when the data give one, else at ``decided_at`` (never before its booking); without, releases
    are judged, and bookings still in custody are decided at ``as_of`` (default: the last day in the data).
    """
    from detainers.law import DecisionError, decide

    zone = ZoneInfo(timezone)
    has_decisions = "decision" in bookings.columns and bookings.get_column("decision").null_count() < bookings.height
    report = ConcordanceReport(jurisdiction, 0, 0, 0, mode="decisions" if has_decisions else "releases")
    for column, dtype in (("statute", pl.String), ("charge_code", pl.String), ("charge_text", pl.String)):
        if column not in charges.columns:
            charges = charges.with_columns(pl.lit(None, dtype=dtype).alias(column))
    wanted = ["hold", "level", "charge_code", "charge_text", "statute", "released_on", "released_at", "release_reason"]
    lines = charges.group_by("booking_id", maintain_order=True).agg([pl.col(c).alias(f"c_{c}") for c in wanted])
    table = bookings.filter(pl.col("immigration_hold")).join(lines, on="booking_id", how="inner")
    if has_decisions:
        table = table.filter(pl.col("decision").is_not_null())
        report.recorded = {str(k): int(n) for k, n in table.get_column("decision").value_counts(sort=True).iter_rows()}
    if limit is not None:
        table = table.head(limit)
    if not has_decisions and as_of is None:
        last = max(
            (d for d in (charges["released_on"].max(), bookings["booked_on"].max()) if isinstance(d, date)),
            default=None,
        )
        as_of = last
    fallback = _at(decided_at if has_decisions else as_of, zone)
    report.decision_instant = fallback.isoformat() if fallback is not None and has_decisions else None
    if has_decisions:
        report.confusion = {p: dict.fromkeys(JAIL, 0) for p in POLICY}

    def skip(why: str) -> None:
        report.undecidable += 1
        report.undecidable_reasons[why] = report.undecidable_reasons.get(why, 0) + 1

    for row in table.iter_rows(named=True):
        name = str(row["booking_id"])
        if has_decisions:
            own = _at(row.get("decided_at"), zone) or (_at(row["decided_on"], zone) if row.get("decided_on") else None)
            at = own or fallback
            if at is None:
                skip("no decision instant: the data give none and no --decided-at was named")
                continue
        else:
            open_line = any(
                on is None
                for on, h, r in zip(row["c_released_on"], row["c_hold"], row["c_release_reason"], strict=True)
                if h is None and (r or "") not in _NOT_OTHER
            )
            at = fallback if open_line else None
        try:
            built = _build(row, jurisdiction, timezone, at)
            if built.case is None:
                skip(built.skip or "not decidable")
                continue
            decision = decide(built.case)
        except (DecisionError, ValueError) as exc:
            skip(type(exc).__name__ + ": " + str(exc).split("\n")[0][:120])
            continue
        unknown = (*built.missing, *decision.undecided_facts)
        instant = decision.decided_at.astimezone(zone).isoformat() if decision.decided_at else None
        if has_decisions:
            jail = "honoured" if row["decision"] in _HONOURED else "declined"
            recorded = str(row.get("decision_recorded") or row["decision"])
            if unknown:
                report.undecided.append(Undecided(name, recorded, tuple(unknown), built.charges))
                report.confusion["undecided"][jail] += 1
                continue
            report.decided += 1
            policy = _policy(decision)
            report.confusion[policy][jail] += 1
            direction = {
                ("forbidden", "honoured"): "honoured_where_forbidden",
                ("required", "declined"): "declined_where_required",
                ("allowed", "declined"): "declined_where_allowed",
            }.get((policy, jail))
            if direction is None:
                report.agree += 1
                continue
            report.directions[direction] = report.directions.get(direction, 0) + 1
            why, steps = _why(decision)
            report.disagreements.append(
                Disagreement(name, recorded, policy, why, direction, built.charges, instant, steps)
            )
            continue
        if unknown:
            report.undecided.append(Undecided(name, str(row.get("release_reason") or "open"), tuple(unknown)))
            continue
        report.decided += 1
        problems = _release_problems(row, decision, built, zone)
        if not problems:
            report.agree += 1
            continue
        why, steps = _why(decision)
        for direction, actual, policy in problems:
            report.directions[direction] = report.directions.get(direction, 0) + 1
            report.disagreements.append(
                Disagreement(name, actual, policy, why, direction, built.charges, instant, steps)
            )
    return report


def _release_problems(row: dict[str, Any], decision: Any, built: _Built, zone: ZoneInfo) -> list[tuple[str, str, str]]:
    from detainers.law import Transfer

    released = _instant(row["released_on"], row["released_at"], zone)
    to = row["release_reason"] or ""
    problems: list[tuple[str, str, str]] = []
    if released is not None and to == "released_to_ice" and decision.transfer is Transfer.NOT_ALLOWED:
        problems.append(("honoured_where_forbidden", "transferred to ICE", "transfer not allowed"))
    if released is not None and to not in ("released_to_ice", "transferred") and decision.transfer is Transfer.REQUIRED:
        problems.append(("declined_where_required", "released to the public", "transfer required"))
    eligible = built.eligible
    hold = [i for i, h in enumerate(row["c_hold"]) if h == "immigration"]
    ends = [_instant(row["c_released_on"][i], row["c_released_at"][i], zone) for i in hold]
    held_until = max((h for h in ends if h is not None), default=None)
    if eligible is not None and held_until is not None and held_until > eligible:
        limit_at = decision.hold_until if decision.hold_allowed and decision.hold_until is not None else eligible
        tolerance = 0 if row["booked_at"] else 1  # date-only exports: a hold line closed the next day is not proof
        if (held_until.date() - limit_at.astimezone(zone).date()).days > tolerance:
            if decision.hold_allowed:
                policy = f"hold allowed until {limit_at.astimezone(zone).date()}"
                problems.append(("held_too_long", f"held on the detainer until {held_until.date()}", policy))
            else:
                problems.append(
                    ("held_where_forbidden", f"held on the detainer until {held_until.date()}", "no hold allowed")
                )
    return problems
